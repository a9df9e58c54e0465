#include "proxy/request_sender.hpp"

#include "proxy/file_sender.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>

namespace passenger::proxy {

asio::awaitable<Sending> send_buffered_request(spawn::AppSocket& app, std::string_view head,
                                               const http::BodyBuffer& body) {
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head.data(), head.size()),
                                                 asio::buffer(body.memory())};
    asio::error_code error;
    size_t written =
        co_await asio::async_write(app, buffers, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return written == 0 ? Sending::failed_unsent : Sending::failed;
    if (body.file_size() == 0) co_return Sending::done;
    FileSpan file{body.file_fd(), body.file_offset(), body.file_size()};
    co_return co_await send_file(app, file, [] {}) ? Sending::failed : Sending::done;
}

}  // namespace passenger::proxy

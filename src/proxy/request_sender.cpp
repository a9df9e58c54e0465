#include "proxy/request_sender.hpp"

#include <sys/sendfile.h>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <array>
#include <cerrno>

namespace passenger::proxy {
namespace {

constexpr size_t file_chunk = 1 << 20;
constexpr size_t bytes_between_yields = 4 << 20;

asio::awaitable<bool> send_file_range(spawn::AppSocket& app, int fd, uint64_t offset,
                                      uint64_t length) {
    asio::error_code error;
    app.non_blocking(true, error);
    size_t since_yield = 0;
    while (!error && length > 0) {
        off_t position = static_cast<off_t>(offset);
        ssize_t sent = ::sendfile(app.native_handle(), fd, &position,
                                  static_cast<size_t>(std::min<uint64_t>(length, file_chunk)));
        if (sent > 0) {
            offset += static_cast<uint64_t>(sent);
            length -= static_cast<uint64_t>(sent);
            since_yield += static_cast<size_t>(sent);
            if (since_yield >= bytes_between_yields) {
                since_yield = 0;
                co_await asio::post(app.get_executor(), asio::use_awaitable);
            }
        } else if (sent == 0) {
            co_return false;  // the temp file is shorter than it should be
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            since_yield = 0;
            co_await app.async_wait(spawn::AppSocket::wait_write,
                                    asio::redirect_error(asio::use_awaitable, error));
        } else if (errno != EINTR) {
            co_return false;
        }
    }
    co_return !error;
}

}  // namespace

asio::awaitable<bool> send_buffered_request(spawn::AppSocket& app, std::string_view head,
                                            const http::BodyBuffer& body) {
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(head.data(), head.size()),
                                                 asio::buffer(body.memory())};
    asio::error_code error;
    co_await asio::async_write(app, buffers, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return false;
    if (body.file_size() == 0) co_return true;
    co_return co_await send_file_range(app, body.file_fd(), body.file_offset(), body.file_size());
}

}  // namespace passenger::proxy

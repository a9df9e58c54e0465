#include "proxy/request_sender.hpp"

#include "proxy/file_sender.hpp"

#include <sys/socket.h>
#include <sys/uio.h>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cerrno>

namespace passenger::proxy {
namespace {

// What is left of head + memory part after `written` bytes, as two pieces.
std::array<std::string_view, 2> unwritten(std::string_view head, std::string_view memory,
                                          size_t written) {
    if (written < head.size()) return {head.substr(written), memory};
    return {std::string_view(), memory.substr(written - head.size())};
}

}  // namespace

std::optional<Sending> send_request_now(spawn::AppSocket& app, std::string_view head,
                                        const http::BodyBuffer& body, size_t& written) {
    const auto pieces = unwritten(head, body.memory(), written);
    std::array<iovec, 2> vectors = {iovec{const_cast<char*>(pieces[0].data()), pieces[0].size()},
                                    iovec{const_cast<char*>(pieces[1].data()), pieces[1].size()}};
    msghdr message{};
    message.msg_iov = vectors.data();
    message.msg_iovlen = vectors.size();
    ssize_t sent;
    do {
        sent = ::sendmsg(app.native_handle(), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    if (sent < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
        return written == 0 ? Sending::failed_unsent : Sending::failed;
    }
    written += static_cast<size_t>(sent);
    if (written < head.size() + body.memory().size() || body.file_size() > 0) return std::nullopt;
    return Sending::done;
}

asio::awaitable<Sending> send_buffered_request(spawn::AppSocket& app, std::string_view head,
                                               const http::BodyBuffer& body, size_t written) {
    const auto pieces = unwritten(head, body.memory(), written);
    std::array<asio::const_buffer, 2> buffers = {asio::buffer(pieces[0]), asio::buffer(pieces[1])};
    asio::error_code error;
    written +=
        co_await asio::async_write(app, buffers, asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return written == 0 ? Sending::failed_unsent : Sending::failed;
    if (body.file_size() == 0) co_return Sending::done;
    FileSpan file{body.file_fd(), body.file_offset(), body.file_size()};
    co_return co_await send_file(app, file, [] {}) ? Sending::failed : Sending::done;
}

}  // namespace passenger::proxy

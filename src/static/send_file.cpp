#include "static/static_files.hpp"

#include <sys/sendfile.h>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>

namespace passenger::static_files {

namespace {

// Bytes asked of one sendfile(2) call; the kernel sends what fits in the socket buffer.
constexpr size_t kChunkBytes = 1 << 20;
// A reader fast enough never to make the socket block would keep this coroutine running; after
// this many bytes without a pause, yield to the other connections on the executor.
constexpr size_t kBytesBetweenYields = 4 << 20;

}  // namespace

asio::awaitable<std::error_code> send_file(asio::ip::tcp::socket& socket, int fd, off_t offset,
                                           size_t length) {
    std::error_code ec;
    socket.non_blocking(true, ec);
    if (ec) co_return ec;

    size_t since_yield = 0;
    while (length > 0) {
        ssize_t sent =
            ::sendfile(socket.native_handle(), fd, &offset, std::min(length, kChunkBytes));
        if (sent > 0) {
            length -= static_cast<size_t>(sent);
            since_yield += static_cast<size_t>(sent);
            if (since_yield >= kBytesBetweenYields && length > 0) {
                since_yield = 0;
                co_await asio::post(socket.get_executor(), asio::use_awaitable);
            }
            continue;
        }
        if (sent == 0) co_return std::make_error_code(std::errc::io_error);  // the file shrank
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            co_return std::error_code(errno, std::system_category());
        since_yield = 0;
        co_await socket.async_wait(asio::ip::tcp::socket::wait_write,
                                   asio::redirect_error(asio::use_awaitable, ec));
        if (ec) co_return ec;
    }
    co_return std::error_code();
}

}  // namespace passenger::static_files

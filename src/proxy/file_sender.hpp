// Sending part of a file to a socket with sendfile(2): the one loop behind buffered responses
// and static files (ClientWriter) and buffered request bodies (request_sender).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/error_code.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>

namespace passenger::proxy {

struct FileSpan {
    int fd = -1;
    uint64_t offset = 0;
    uint64_t length = 0;
};

enum class FileSending {
    done,         // the span is empty
    would_block,  // the socket's buffer is full: wait until it is writable
    yielding,     // enough went in one go: let the other connections run, then go on
    failed,       // `error` says why (a file shorter than the span is asio::error::eof)
};

// Sends from `span`, advancing it, until one of the above. `socket_fd` must be non-blocking.
FileSending send_file_some(int socket_fd, FileSpan& span, asio::error_code& error);

// sendfile(2) needs the descriptor itself non-blocking; asio's setter makes an ioctl every time.
template <typename Socket>
void make_non_blocking(Socket& socket, asio::error_code& error) {
    if (!socket.non_blocking()) socket.non_blocking(true, error);
}

// Sends the whole span, waiting while the socket is full (`before_wait()` is called before each
// wait, e.g. to re-arm a timeout) and yielding to other connections now and then.
template <typename Socket, typename BeforeWait>
asio::awaitable<asio::error_code> send_file(Socket& socket, FileSpan span, BeforeWait before_wait) {
    asio::error_code error;
    make_non_blocking(socket, error);
    while (!error && span.length > 0) {
        switch (send_file_some(socket.native_handle(), span, error)) {
            case FileSending::yielding:
                co_await asio::post(socket.get_executor(), asio::use_awaitable);
                break;
            case FileSending::would_block:
                before_wait();
                co_await socket.async_wait(Socket::wait_write,
                                           asio::redirect_error(asio::use_awaitable, error));
                break;
            case FileSending::done:
            case FileSending::failed:
                break;
        }
    }
    co_return error;
}

}  // namespace passenger::proxy

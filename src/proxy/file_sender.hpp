// Sending part of a file to a socket with sendfile(2): the one loop behind buffered responses
// and static files (ClientWriter) and buffered request bodies (request_sender).
#pragma once

#include <sys/types.h>
#include <asio/awaitable.hpp>
#include <asio/error.hpp>
#include <asio/error_code.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <cstddef>
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

namespace detail {

// Bytes asked of one sendfile(2) call; the kernel sends what fits in the socket buffer.
constexpr uint64_t file_chunk = 1 << 20;
// A client fast enough never to make the socket block would keep the loop running; after this
// many bytes the sender lets the other connections run.
constexpr uint64_t bytes_between_yields = 4 << 20;

// The loop of send_file_some() around `send(position, count)`, which keeps sendfile(2)'s contract.
template <typename Send>
FileSending send_file_some(FileSpan& span, asio::error_code& error, Send send) {
    uint64_t sent_now = 0;
    while (span.length > 0) {
        if (sent_now >= bytes_between_yields) return FileSending::yielding;
        off_t position = static_cast<off_t>(span.offset);
        ssize_t sent = send(&position, static_cast<size_t>(std::min(span.length, file_chunk)));
        if (sent > 0) {
            span.offset += static_cast<uint64_t>(sent);
            span.length -= static_cast<uint64_t>(sent);
            sent_now += static_cast<uint64_t>(sent);
        } else if (sent == 0) {
            error = asio::error::eof;  // the file is shorter than the span
            return FileSending::failed;
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return FileSending::would_block;
        } else if (errno != EINTR) {
            error = asio::error_code(errno, asio::error::get_system_category());
            return FileSending::failed;
        }
    }
    return FileSending::done;
}

}  // namespace detail

// The same for a socket object: a TLS one encrypts what it reads (tls::TlsSocket::send_file_now).
template <typename Socket>
FileSending send_file_some(Socket& socket, FileSpan& span, asio::error_code& error) {
    if constexpr (requires(off_t * position) { socket.send_file_now(span.fd, position, 0); }) {
        return detail::send_file_some(span, error, [&](off_t* position, size_t count) {
            return socket.send_file_now(span.fd, position, count);
        });
    } else {
        return send_file_some(socket.native_handle(), span, error);
    }
}

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
        switch (send_file_some(socket, span, error)) {
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

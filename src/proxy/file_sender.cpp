#include "proxy/file_sender.hpp"

#include <sys/sendfile.h>
#include <asio/error.hpp>

#include <algorithm>
#include <cerrno>

namespace passenger::proxy {
namespace {

// Bytes asked of one sendfile(2) call; the kernel sends what fits in the socket buffer.
constexpr uint64_t file_chunk = 1 << 20;
// A client fast enough never to make the socket block would keep the loop running; after this
// many bytes the sender lets the other connections run.
constexpr uint64_t bytes_between_yields = 4 << 20;

}  // namespace

FileSending send_file_some(int socket_fd, FileSpan& span, asio::error_code& error) {
    uint64_t sent_now = 0;
    while (span.length > 0) {
        if (sent_now >= bytes_between_yields) return FileSending::yielding;
        off_t position = static_cast<off_t>(span.offset);
        ssize_t sent = ::sendfile(socket_fd, span.fd, &position,
                                  static_cast<size_t>(std::min(span.length, file_chunk)));
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

}  // namespace passenger::proxy

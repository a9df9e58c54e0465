#include "proxy/file_sender.hpp"

#include <sys/sendfile.h>

namespace passenger::proxy {

FileSending send_file_some(int socket_fd, FileSpan& span, asio::error_code& error) {
    return detail::send_file_some(span, error, [socket_fd, &span](off_t* position, size_t count) {
        return ::sendfile(socket_fd, span.fd, position, count);
    });
}

}  // namespace passenger::proxy

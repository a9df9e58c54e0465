#include "tls/tls_socket.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>
#include <asio/error.hpp>

#include <algorithm>
#include <array>
#include <cerrno>

namespace passenger::tls {
namespace {

// A file is read into this one buffer per thread, then encrypted and written at once; the bytes
// of a write OpenSSL must retry are read again from the file into it.
std::array<char, 16 * 1024>& file_chunk() {
    thread_local std::array<char, 16 * 1024> chunk;
    return chunk;
}

}  // namespace

TlsSocket::TlsSocket(asio::ip::tcp::socket socket, SSL* ssl)
    : socket_(std::move(socket)), ssl_(ssl, SSL_free) {
    if (!ssl_) return;
    SSL_set_fd(ssl_.get(), socket_.native_handle());
    SSL_set_accept_state(ssl_.get());
}

TlsSocket::Step TlsSocket::step_of(int result) {
    int error = SSL_get_error(ssl_.get(), result);
    // A client that closes without close_notify (most do, after their last response) ends the
    // stream as a TCP close ends a plain one; TLS cannot be shut down properly afterwards.
    bool unexpected_eof = error == SSL_ERROR_SSL &&
                          ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
    // OpenSSL's error queue is per thread: leave nothing in it for the next connection.
    if (error != SSL_ERROR_WANT_READ && error != SSL_ERROR_WANT_WRITE) ERR_clear_error();
    switch (error) {
        case SSL_ERROR_WANT_READ:
            return Step::want_read;
        case SSL_ERROR_WANT_WRITE:
            return Step::want_write;
        case SSL_ERROR_ZERO_RETURN:
            return Step::closed;  // close_notify
        case SSL_ERROR_SYSCALL:
            failed_ = true;
            return errno == 0 ? Step::closed : Step::failed;
        default:
            failed_ = true;
            return unexpected_eof ? Step::closed : Step::failed;
    }
}

asio::error_code TlsSocket::error_of(Step step, bool non_blocking) {
    switch (step) {
        case Step::done:
            return {};
        case Step::want_read:
        case Step::want_write:
            return non_blocking ? asio::error::would_block : asio::error::operation_aborted;
        case Step::closed:
            return asio::error::eof;
        case Step::failed:
            break;
    }
    return asio::error::connection_reset;
}

TlsSocket::Step TlsSocket::handshake_step() {
    if (!usable()) return Step::failed;
    ERR_clear_error();
    int result = SSL_do_handshake(ssl_.get());
    Step step = result == 1 ? Step::done : step_of(result);
    input_incomplete_ = step == Step::want_read;
    return step;
}

TlsSocket::Step TlsSocket::read(asio::mutable_buffer buffer, size_t& length) {
    if (!usable()) return Step::failed;
    if (buffer.size() == 0) return Step::done;
    Step step =
        step_of(SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &length), read_waits_for_);
    input_incomplete_ = step == Step::want_read;
    return step;
}

TlsSocket::Step TlsSocket::write(asio::const_buffer buffer, size_t& length) {
    if (!usable()) return Step::failed;
    if (buffer.size() == 0) return Step::done;
    return step_of(SSL_write_ex(ssl_.get(), buffer.data(), buffer.size(), &length),
                   write_waits_for_);
}

TlsSocket::Step TlsSocket::step_of(int result, wait_type& waits_for) {
    if (result == 1) return Step::done;
    Step step = step_of(result);
    if (step == Step::want_read || step == Step::want_write)
        waits_for = step == Step::want_read ? wait_read : wait_write;
    return step;
}

ssize_t TlsSocket::receive_now(char* buffer, size_t size) {
    size_t length = 0;
    switch (read(asio::buffer(buffer, size), length)) {
        case Step::done:
            return static_cast<ssize_t>(length);
        case Step::want_read:
        case Step::want_write:
            errno = EAGAIN;
            return -1;
        case Step::closed:
            return 0;
        case Step::failed:
            break;
    }
    errno = ECONNRESET;
    return -1;
}

ssize_t TlsSocket::send_file_now(int file_fd, off_t* offset, size_t count) {
    auto& chunk = file_chunk();
    ssize_t got = ::pread(file_fd, chunk.data(), std::min(count, chunk.size()), *offset);
    if (got <= 0) return got;  // 0: the file ended early, as sendfile(2) says it
    size_t written = 0;
    switch (write(asio::buffer(chunk.data(), static_cast<size_t>(got)), written)) {
        case Step::done:
            *offset += static_cast<off_t>(written);
            return static_cast<ssize_t>(written);
        case Step::want_read:
        case Step::want_write:
            errno = EAGAIN;
            return -1;
        case Step::closed:
        case Step::failed:
            break;
    }
    errno = EPIPE;
    return -1;
}

PeerState TlsSocket::peek_peer() {
    if (!usable()) return PeerState::closed;
    if (SSL_pending(ssl_.get()) > 0) return PeerState::sent_bytes;
    char byte;
    size_t length = 0;
    int result = SSL_peek_ex(ssl_.get(), &byte, 1, &length);
    if (result == 1) return PeerState::sent_bytes;
    Step step = step_of(result);
    input_incomplete_ = step == Step::want_read;
    switch (step) {
        case Step::want_read:
            read_waits_for_ = wait_read;
            return PeerState::quiet;  // a record in part, or one that was not data
        case Step::want_write:
            read_waits_for_ = wait_write;
            return PeerState::quiet;
        default:
            return PeerState::closed;
    }
}

void TlsSocket::close_notify() {
    if (usable() && !shut_down_ && SSL_is_init_finished(ssl_.get())) {
        shut_down_ = true;
        ERR_clear_error();
        SSL_shutdown(ssl_.get());
        ERR_clear_error();
    }
}

void TlsSocket::shutdown(shutdown_type what, asio::error_code& error) {
    close_notify();
    socket_.shutdown(what, error);
}

}  // namespace passenger::tls

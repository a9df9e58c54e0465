// A server-side TLS connection that the front end (server/connection.cpp) and proxy/ use like a
// plain asio::ip::tcp::socket, so HTTPS is served by the same code as HTTP with no socket pair in
// between: asynchronous waits, reads and writes with any completion token, non-blocking
// read_some/write_some (the tunnel), and, in place of the three calls the plain code makes on the
// descriptor itself, receive_now (recv), send_file_now (sendfile: read, then SSL_write) and
// peek_peer (a MSG_PEEK). The code is chosen at compile time (a template on the stream type), so
// plain HTTP pays nothing for it.
//
// The socket must be non-blocking (asio makes it so on its first asynchronous operation). One
// read and one write may be in progress at once, as with a socket. A write that OpenSSL could not
// finish must be retried with the same bytes (they may have moved): every caller here does, as
// asio's callers of write_some always deliver the rest.
#pragma once

#include "common/peer_probe.hpp"

#include <openssl/ssl.h>
#include <sys/types.h>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>

#include <cstddef>
#include <memory>
#include <utility>

namespace passenger::tls {

// asio::socket_base: the wait and shutdown types and constants a socket has (Stream::wait_read).
class TlsSocket : public asio::socket_base {
  public:
    using executor_type = asio::ip::tcp::socket::executor_type;

    // What one OpenSSL call came to.
    enum class Step { done, want_read, want_write, closed, failed };

    // `ssl` (owned; null when SSL_new failed, and then every operation fails) serves `socket` in
    // the server role.
    TlsSocket(asio::ip::tcp::socket socket, SSL* ssl);
    TlsSocket(TlsSocket&&) noexcept = default;
    TlsSocket& operator=(TlsSocket&&) noexcept = default;

    executor_type get_executor() { return socket_.get_executor(); }
    asio::ip::tcp::socket& lowest_layer() { return socket_; }
    SSL* ssl() const { return ssl_.get(); }

    // The handshake; completes with an error when it failed or the socket was cancelled.
    template <typename Token>
    auto async_handshake(Token&& token) {
        return start([this](size_t&) { return handshake_step(); }, std::forward<Token>(token));
    }
    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        asio::mutable_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return start([this, buffer](size_t& length) { return read(buffer, length); },
                     std::forward<Token>(token));
    }
    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        asio::const_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return start([this, buffer](size_t& length) { return write(buffer, length); },
                     std::forward<Token>(token));
    }
    // Readable: decrypted bytes wait in OpenSSL already, or the socket is ready for what the last
    // read wanted (OpenSSL may need to write to read on). Writable likewise.
    template <typename Token>
    auto async_wait(wait_type wait, Token&& token) {
        return asio::async_initiate<Token, void(asio::error_code)>(
            [this](auto handler, wait_type wait) {
                if (wait == wait_read && has_unread_input()) {
                    asio::post(socket_.get_executor(), [handler = std::move(handler)]() mutable {
                        std::move(handler)(asio::error_code());
                    });
                    return;
                }
                socket_.async_wait(wait == wait_read ? read_waits_for_ : write_waits_for_,
                                   std::move(handler));
            },
            token, wait);
    }

    // Without waiting: would_block when OpenSSL needs the socket first.
    template <typename MutableBuffers>
    size_t read_some(const MutableBuffers& buffers, asio::error_code& error) {
        size_t length = 0;
        error = error_of(read(*asio::buffer_sequence_begin(buffers), length), true);
        return length;
    }
    template <typename ConstBuffers>
    size_t write_some(const ConstBuffers& buffers, asio::error_code& error) {
        size_t length = 0;
        error = error_of(write(*asio::buffer_sequence_begin(buffers), length), true);
        return length;
    }

    // recv(2)'s contract without waiting: bytes, 0 at the end, or -1 with errno (EAGAIN).
    ssize_t receive_now(char* buffer, size_t size);
    // sendfile(2)'s contract: up to `count` bytes of `file_fd` from `*offset` (advanced), read
    // and encrypted one record at a time.
    ssize_t send_file_now(int file_fd, off_t* offset, size_t count);
    // Whether the client left, counting what OpenSSL has read already (a close_notify is a
    // leaving; application data stays for the next read).
    PeerState peek_peer();

    // Whether a read can make progress without the socket: decrypted bytes, or a record OpenSSL
    // read ahead (SSL_CTX_set_read_ahead, tls/credentials.cpp) that no read has found incomplete.
    // Those bytes left the kernel already, so waiting on the socket for them could wait forever.
    bool has_unread_input() const {
        return ssl_ && (SSL_pending(ssl_.get()) > 0 ||
                        (!input_incomplete_ && SSL_has_pending(ssl_.get()) == 1));
    }

    bool non_blocking() const { return socket_.non_blocking(); }
    void non_blocking(bool mode, asio::error_code& error) { socket_.non_blocking(mode, error); }
    void cancel(asio::error_code& error) { socket_.cancel(error); }
    // Sends close_notify (once, without waiting for the client's), unless TLS failed.
    void close_notify();
    // close_notify first, then the TCP shutdown.
    void shutdown(shutdown_type what, asio::error_code& error);
    void close(asio::error_code& error) { socket_.close(error); }

  private:
    // One asynchronous operation: `attempt(transferred)` until it is done or fails, waiting on
    // the socket for what OpenSSL wants in between. Completes through the executor, never inside
    // the initiating call.
    template <typename Attempt>
    struct Operation {
        TlsSocket* socket;
        Attempt attempt;
        enum { starting, waiting, completing } state = starting;
        Step step = Step::done;
        size_t transferred = 0;

        template <typename Self>
        void operator()(Self& self, asio::error_code wait_error = {}) {
            if (state == completing) return self.complete(error_of(step, false), transferred);
            if (wait_error) return self.complete(wait_error, size_t(0));
            step = attempt(transferred);
            if (step == Step::want_read || step == Step::want_write) {
                state = waiting;
                socket->socket_.async_wait(step == Step::want_read ? wait_read : wait_write,
                                           std::move(self));
                return;
            }
            if (state == starting) {
                state = completing;
                return asio::post(socket->socket_.get_executor(), std::move(self));
            }
            self.complete(error_of(step, false), transferred);
        }
    };
    template <typename Attempt, typename Token>
    auto start(Attempt attempt, Token&& token) {
        return asio::async_compose<Token, void(asio::error_code, size_t)>(
            Operation<Attempt>{this, std::move(attempt)}, token, socket_);
    }

    // A socket closed under the stream (server shutdown closes registered sockets) may have its
    // descriptor number reused at once: OpenSSL must not touch it any more.
    bool usable() const { return ssl_ && !failed_ && socket_.is_open(); }
    Step handshake_step();
    Step read(asio::mutable_buffer buffer, size_t& length);
    Step write(asio::const_buffer buffer, size_t& length);
    Step step_of(int result);
    // The step of a read or write that returned `result`, remembering what it waits for.
    Step step_of(int result, wait_type& waits_for);
    // `non_blocking`: a wait is would_block (else the step is never one).
    static asio::error_code error_of(Step step, bool non_blocking);

    asio::ip::tcp::socket socket_;
    std::unique_ptr<SSL, decltype(&SSL_free)> ssl_;
    wait_type read_waits_for_ = wait_read;  // what the last read found it must wait for
    wait_type write_waits_for_ = wait_write;
    // The last read, peek or handshake step needed more input than OpenSSL had buffered (what
    // is buffered is part of a record): only the socket can help it on.
    bool input_incomplete_ = true;
    bool failed_ = false;  // a fatal error: no close_notify (OpenSSL forbids SSL_shutdown then)
    bool shut_down_ = false;
};

}  // namespace passenger::tls

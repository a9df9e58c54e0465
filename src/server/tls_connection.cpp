#include "server/tls_connection.hpp"

#include "common/log.hpp"
#include "common/socket_deadline.hpp"
#include "http/error_page.hpp"
#include "http/write_helpers.hpp"
#include "server/connection.hpp"
#include "server/http2_session.hpp"
#include "server/tls_stream.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <utility>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

// The first byte of a TLS record carrying a handshake (a ClientHello).
constexpr unsigned char tls_handshake_record = 0x16;
// After answering plain HTTP or ending HTTP/2, how long the client gets to close before we do.
constexpr auto plain_http_linger = 2s;

// Relayed bytes pass through this one buffer per thread (a connection only ever runs on its
// event loop, and no coroutine holds it across a suspension); only what the other side does not
// take at once is copied into a string the direction owns until it is written.
std::array<char, 16 * 1024>& relay_buffer() {
    thread_local std::array<char, 16 * 1024> buffer;
    return buffer;
}

enum class Step { done, want_read, want_write, closed, failed };

using Ssl = std::unique_ptr<SSL, decltype(&SSL_free)>;

// The TLS side of a connection and the socket pair whose other end serve_connection() serves.
// Two directions run at once: from the client (SSL_read, then the pair) in its own coroutine,
// and to the client (the pair, then SSL_write) in run(), which ends the connection.
class TlsConnection final : public TlsStream, public std::enable_shared_from_this<TlsConnection> {
  public:
    TlsConnection(asio::ip::tcp::socket socket, Server& server)
        : server_(server),
          socket_(std::move(socket)),
          address_(peer_address(socket_)),
          deadline_(socket_, server.front_end().timer_granularity),
          context_(server.tls_context()),
          ssl_(SSL_new(context_.get()), SSL_free),
          pair_end_(socket_.get_executor()) {}

    asio::awaitable<void> run();
    asio::awaitable<size_t> read_some(char* buffer, size_t size) override;
    asio::awaitable<bool> write_all(const char* data, size_t length) override;

  private:
    bool chose_http2() const;
    asio::awaitable<bool> handshake();
    asio::awaitable<void> answer_plain_http();
    asio::awaitable<void> linger();
    asio::awaitable<bool> start_serving();
    asio::awaitable<void> relay_from_client();
    asio::awaitable<bool> send_to_client(const char* data, size_t length);
    asio::awaitable<bool> wait_for(Step step);
    Step step_of(int result);
    void close();

    Server& server_;
    asio::ip::tcp::socket socket_;
    std::string address_;
    SocketDeadline deadline_;
    tls::ServerContext context_;  // the one this handshake used, whatever reloads happen
    Ssl ssl_;
    asio::ip::tcp::socket pair_end_;  // ours; serve_connection() has the other
    bool first_read_ = true;
};

Step TlsConnection::step_of(int result) {
    int error = SSL_get_error(ssl_.get(), result);
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
            return errno == 0 ? Step::closed : Step::failed;
        default:
            return Step::failed;
    }
}

asio::awaitable<bool> TlsConnection::wait_for(Step step) {
    if (step != Step::want_read && step != Step::want_write) co_return false;
    asio::error_code error;
    co_await socket_.async_wait(step == Step::want_read ? asio::ip::tcp::socket::wait_read
                                                        : asio::ip::tcp::socket::wait_write,
                                asio::redirect_error(asio::use_awaitable, error));
    co_return !error;
}

void TlsConnection::close() {
    asio::error_code ignored;
    socket_.close(ignored);
    pair_end_.close(ignored);
}

asio::awaitable<void> TlsConnection::run() {
    auto self = shared_from_this();
    deadline_.expires_after(server_.front_end().header_timeout);
    asio::error_code error;
    co_await socket_.async_wait(asio::ip::tcp::socket::wait_read,
                                asio::redirect_error(asio::use_awaitable, error));
    unsigned char first = 0;
    if (error || ::recv(socket_.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT) != 1) {
        server_.forget_accepted();
        co_return close();
    }
    if (first != tls_handshake_record) {
        co_await answer_plain_http();
        server_.forget_accepted();
        co_return close();
    }
    if (!ssl_ || !co_await handshake()) {
        server_.forget_accepted();
        co_return close();
    }
    deadline_.disarm();
    if (chose_http2()) {
        server_.forget_accepted();  // each stream counts as a connection of its own
        server_.requests().open_connection(admin::ClientProtocol::h2);
        co_await serve_http2(*this, server_, address_);
        server_.requests().close_connection(admin::ClientProtocol::h2);
        ERR_clear_error();
        SSL_shutdown(ssl_.get());
        ERR_clear_error();
        co_await linger();  // the client may still be sending when our GOAWAY went out
        co_return close();
    }
    if (!co_await start_serving()) {
        server_.forget_accepted();
        co_return close();
    }
    asio::co_spawn(
        socket_.get_executor(), [self]() { return self->relay_from_client(); }, asio::detached);

    // To the client, until serve_connection() closes its end (or the client fails).
    bool clean_end = false;
    for (;;) {
        co_await pair_end_.async_wait(asio::ip::tcp::socket::wait_read,
                                      asio::redirect_error(asio::use_awaitable, error));
        if (error) break;
        auto& buffer = relay_buffer();
        size_t length = pair_end_.read_some(asio::buffer(buffer), error);
        if (error == asio::error::would_block) continue;
        if (error) {
            clean_end = error == asio::error::eof;
            break;
        }
        if (!co_await send_to_client(buffer.data(), length)) break;
    }
    // close_notify, once and without waiting for the client's: it tells the client the response
    // was not cut short.
    ERR_clear_error();
    if (clean_end) SSL_shutdown(ssl_.get());
    ERR_clear_error();
    close();
}

// The socket is non-blocking already: run()'s first async_wait made it so (asio sets it on a
// socket's first asynchronous operation), and setting it again would cost a syscall per handshake.
asio::awaitable<bool> TlsConnection::handshake() {
    SSL_set_fd(ssl_.get(), socket_.native_handle());
    SSL_set_accept_state(ssl_.get());
    ERR_clear_error();
    for (;;) {
        int result = SSL_do_handshake(ssl_.get());
        if (result == 1) co_return true;
        Step step = step_of(result);
        if (!co_await wait_for(step)) {
            if (deadline_.expired())
                log::debug("TLS handshake with {} did not complete in time", address_);
            else
                log::debug("TLS handshake with {} failed", address_);
            co_return false;
        }
    }
}

// nginx's answer to plain HTTP on an HTTPS port: a 400 in clear text, not a hang or a reset.
// What the client sent is read first, so that closing does not reset the connection before the
// client has read the answer.
asio::awaitable<void> TlsConnection::answer_plain_http() {
    log::notice("Rejected request from {}: 400 (plain HTTP sent to the HTTPS port)", address_);
    auto& discard = relay_buffer();
    while (::recv(socket_.native_handle(), discard.data(), discard.size(), MSG_DONTWAIT) > 0) {
    }
    deadline_.expires_after(server_.front_end().send_timeout);
    bool written = co_await http::write_all(
        socket_,
        http::error_response(400, "<p>The plain HTTP request was sent to HTTPS port</p>", false));
    if (written) co_await linger();
}

// Closing with unread input would reset the connection, and the reset can destroy what the
// client has not read yet (a 400, a GOAWAY): our side is shut first, and what still comes is
// read and dropped for a moment.
asio::awaitable<void> TlsConnection::linger() {
    asio::error_code error;
    socket_.shutdown(asio::ip::tcp::socket::shutdown_send, error);
    deadline_.expires_after(plain_http_linger);
    while (!error) {
        co_await socket_.async_read_some(asio::buffer(relay_buffer()),
                                         asio::redirect_error(asio::use_awaitable, error));
    }
}

// The socket pair: the connection code gets one end as if it were the client's socket.
asio::awaitable<bool> TlsConnection::start_serving() {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0) {
        log::error("Cannot serve a TLS connection from {}: socketpair: {}", address_,
                   std::strerror(errno));
        co_return false;
    }
    asio::error_code error;
    asio::ip::tcp::socket served(socket_.get_executor());
    pair_end_.assign(asio::ip::tcp::v4(), pair[0], error);
    if (!error) served.assign(asio::ip::tcp::v4(), pair[1], error);
    if (error) {
        if (!served.is_open()) ::close(pair[1]);
        co_return false;
    }
    pair_end_.non_blocking(true, error);
    asio::co_spawn(socket_.get_executor(),
                   serve_connection(std::move(served), server_, ConnectionOrigin{address_, true}),
                   asio::detached);
    co_return true;
}

// Writes all of `data` through TLS within the send timeout per step, like the connection's
// own writes: a client that stops reading cannot hold the connection forever.
asio::awaitable<bool> TlsConnection::send_to_client(const char* data, size_t length) {
    std::string rest;  // owned only when the client does not take everything at once
    while (length > 0) {
        size_t written = 0;
        int result = SSL_write_ex(ssl_.get(), data, length, &written);
        if (result == 1) {
            data += written;
            length -= written;
            continue;
        }
        Step step = step_of(result);
        if (rest.empty() || data != rest.data()) {
            rest.assign(data, length);
            data = rest.data();
        }
        deadline_.expires_after(server_.front_end().send_timeout);
        bool ready = co_await wait_for(step);
        deadline_.disarm();
        if (!ready) co_return false;
    }
    co_return true;
}

// From the client to the connection code. Waits for readability before reading, holding no
// buffer while the client is quiet.
bool TlsConnection::chose_http2() const {
    const unsigned char* protocol = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(ssl_.get(), &protocol, &length);
    return length == 2 && std::memcmp(protocol, "h2", 2) == 0;
}

// A record that arrived in part is pending too, but reading it wants more bytes: only a
// want_read answer says to wait (else this would spin on the part).
asio::awaitable<size_t> TlsConnection::read_some(char* buffer, size_t size) {
    auto self = shared_from_this();
    // The first read after the handshake tries at once: a client sends its request (or its h2
    // preface) right behind its Finished, so waiting first would only cost a reactor round trip.
    bool wait_first = !std::exchange(first_read_, false) && SSL_has_pending(ssl_.get()) == 0;
    for (;;) {
        if (wait_first && !co_await wait_for(Step::want_read)) co_return 0;
        size_t length = 0;
        int result = SSL_read_ex(ssl_.get(), buffer, size, &length);
        if (result == 1) co_return length;
        Step step = step_of(result);
        wait_first = step == Step::want_read;
        if (step == Step::want_read) continue;
        if (step != Step::want_write || !co_await wait_for(step)) co_return 0;
    }
}

asio::awaitable<bool> TlsConnection::write_all(const char* data, size_t length) {
    auto self = shared_from_this();
    co_return co_await send_to_client(data, length);
}

// From the client to the connection code. Waits for readability before reading, holding no
// buffer while the client is quiet.
asio::awaitable<void> TlsConnection::relay_from_client() {
    auto self = shared_from_this();
    asio::error_code error;
    for (;;) {
        auto& buffer = relay_buffer();
        size_t length = co_await read_some(buffer.data(), buffer.size());
        if (length == 0) break;
        size_t sent = pair_end_.write_some(asio::buffer(buffer.data(), length), error);
        if (error && error != asio::error::would_block) break;
        if (sent < length) {
            std::string rest(buffer.data() + sent, length - sent);
            co_await asio::async_write(pair_end_, asio::buffer(rest),
                                       asio::redirect_error(asio::use_awaitable, error));
            if (error) break;
        }
    }
    // The client is done sending (or gone): the connection code reads the end of its input.
    pair_end_.shutdown(asio::ip::tcp::socket::shutdown_send, error);
}

}  // namespace

asio::awaitable<void> serve_tls_connection(asio::ip::tcp::socket socket, Server& server) {
    auto connection = std::make_shared<TlsConnection>(std::move(socket), server);
    co_await connection->run();
}

}  // namespace passenger::server

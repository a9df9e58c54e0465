#include "server/tls_connection.hpp"

#include "common/log.hpp"
#include "common/socket_deadline.hpp"
#include "http/error_page.hpp"
#include "http/write_helpers.hpp"
#include "server/connection.hpp"
#include "server/http2_session.hpp"
#include "server/tls_stream.hpp"
#include "tls/tls_socket.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

// The first byte of a TLS record carrying a handshake (a ClientHello).
constexpr unsigned char tls_handshake_record = 0x16;
// After answering plain HTTP or ending HTTP/2, how long the client gets to close before we do.
constexpr auto plain_http_linger = 2s;

// What a client sends that is dropped (plain HTTP, what follows a GOAWAY) is read into this one
// buffer per thread (a connection only ever runs on its event loop).
std::array<char, 16 * 1024>& discard_buffer() {
    thread_local std::array<char, 16 * 1024> buffer;
    return buffer;
}

// The TLS side of a connection until it is served: the first byte, the handshake, and for HTTP/2
// the session's stream (TlsStream). An HTTP/1.1 connection leaves it after the handshake, for
// serve_connection() over its TlsSocket.
class TlsConnection final : public TlsStream, public std::enable_shared_from_this<TlsConnection> {
  public:
    TlsConnection(asio::ip::tcp::socket socket, Server& server, std::string address)
        : server_(server),
          address_(address.empty() ? peer_address(socket) : std::move(address)),
          // The context of this handshake, whatever reloads happen (the SSL object keeps it).
          tls_(std::move(socket), SSL_new(server.tls_context().get())),
          deadline_(tls_.lowest_layer(), server.front_end().timer_granularity) {}

    // Returns the connection for serve_connection() when the client chose HTTP/1.1.
    asio::awaitable<std::optional<tls::TlsSocket>> run();
    const std::string& address() const { return address_; }
    asio::awaitable<size_t> read_some(char* buffer, size_t size) override;
    asio::awaitable<bool> write_all(const char* data, size_t length) override;

  private:
    bool chose_http2() const;
    asio::awaitable<bool> handshake();
    asio::awaitable<void> answer_plain_http();
    asio::awaitable<void> linger();
    void close();

    Server& server_;
    std::string address_;
    tls::TlsSocket tls_;
    SocketDeadline deadline_;
    bool first_read_ = true;
};

void TlsConnection::close() {
    asio::error_code ignored;
    tls_.close(ignored);
}

asio::awaitable<std::optional<tls::TlsSocket>> TlsConnection::run() {
    auto self = shared_from_this();
    asio::ip::tcp::socket& socket = tls_.lowest_layer();
    deadline_.expires_after(server_.front_end().header_timeout);
    asio::error_code error;
    // Nagle's algorithm is off from the accept on (the listener's TCP_NODELAY, server.cpp): with
    // it, a small write (a session ticket, an h2 frame) that follows one not yet acknowledged
    // waits for the client's delayed ACK, 40 ms on Linux; every h2 request took that long.
    // The first byte, peeked. A ClientHello is usually there already (the connection waited its
    // turn), so a plain non-blocking recv comes first: asio's asynchronous calls would cost an
    // epoll_ctl (async_wait re-arms the descriptor) or a pass through the loop's queue (an
    // operation that finishes at once completes through a post). Only when nothing is there yet
    // does asio wait, and retry by itself when a wakeup finds nothing.
    unsigned char first = 0;
    ssize_t peeked = ::recv(socket.native_handle(), &first, 1, MSG_PEEK | MSG_DONTWAIT);
    if (peeked < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        peeked = static_cast<ssize_t>(co_await socket.async_receive(
            asio::buffer(&first, 1), asio::ip::tcp::socket::message_peek,
            asio::redirect_error(asio::use_awaitable, error)));
    if (error || peeked != 1) {
        server_.forget_accepted();
        close();
        co_return std::nullopt;
    }
    if (first != tls_handshake_record) {
        co_await answer_plain_http();
        server_.forget_accepted();
        close();
        co_return std::nullopt;
    }
    if (!tls_.ssl() || !co_await handshake()) {
        server_.forget_accepted();
        close();
        co_return std::nullopt;
    }
    deadline_.disarm();
    if (!chose_http2()) co_return std::move(tls_);
    server_.forget_accepted();  // each stream counts as a connection of its own
    server_.requests().open_connection(admin::ClientProtocol::h2);
    co_await serve_http2(*this, server_, address_);
    server_.requests().close_connection(admin::ClientProtocol::h2);
    ERR_clear_error();
    SSL_shutdown(tls_.ssl());
    ERR_clear_error();
    co_await linger();  // the client may still be sending when our GOAWAY went out
    close();
    co_return std::nullopt;
}

// The socket is non-blocking already (accept4's SOCK_NONBLOCK, and asio knows it:
// adopt_accepted), and setting it again would cost a syscall.
asio::awaitable<bool> TlsConnection::handshake() {
    asio::error_code error;
    co_await tls_.async_handshake(asio::redirect_error(asio::use_awaitable, error));
    if (!error) co_return true;
    if (deadline_.expired())
        log::debug("TLS handshake with {} did not complete in time", address_);
    else
        log::debug("TLS handshake with {} failed", address_);
    co_return false;
}

// nginx's answer to plain HTTP on an HTTPS port: a 400 in clear text, not a hang or a reset.
// What the client sent is read first, so that closing does not reset the connection before the
// client has read the answer.
asio::awaitable<void> TlsConnection::answer_plain_http() {
    log::notice("Rejected request from {}: 400 (plain HTTP sent to the HTTPS port)", address_);
    asio::ip::tcp::socket& socket = tls_.lowest_layer();
    auto& discard = discard_buffer();
    while (::recv(socket.native_handle(), discard.data(), discard.size(), MSG_DONTWAIT) > 0) {
    }
    deadline_.expires_after(server_.front_end().send_timeout);
    bool written = co_await http::write_all(
        socket,
        http::error_response(400, "<p>The plain HTTP request was sent to HTTPS port</p>", false));
    if (written) co_await linger();
}

// Closing with unread input would reset the connection, and the reset can destroy what the
// client has not read yet (a 400, a GOAWAY): our side is shut first, and what still comes is
// read and dropped for a moment.
asio::awaitable<void> TlsConnection::linger() {
    asio::ip::tcp::socket& socket = tls_.lowest_layer();
    asio::error_code error;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, error);
    deadline_.expires_after(plain_http_linger);
    while (!error) {
        co_await socket.async_read_some(asio::buffer(discard_buffer()),
                                        asio::redirect_error(asio::use_awaitable, error));
    }
}

bool TlsConnection::chose_http2() const {
    const unsigned char* protocol = nullptr;
    unsigned int length = 0;
    SSL_get0_alpn_selected(tls_.ssl(), &protocol, &length);
    return length == 2 && std::memcmp(protocol, "h2", 2) == 0;
}

// Waits for readability before reading, holding no buffer while the client is quiet.
asio::awaitable<size_t> TlsConnection::read_some(char* buffer, size_t size) {
    auto self = shared_from_this();
    // The first read after the handshake tries at once: a client sends its h2 preface right
    // behind its Finished, so waiting first would only cost a reactor round trip.
    bool wait_first = !std::exchange(first_read_, false) && !tls_.has_unread_input();
    asio::error_code error;
    for (;;) {
        if (wait_first) {
            co_await tls_.async_wait(tls::TlsSocket::wait_read,
                                     asio::redirect_error(asio::use_awaitable, error));
            if (error) co_return 0;
        }
        size_t length = tls_.read_some(asio::buffer(buffer, size), error);
        if (!error) co_return length;
        if (error != asio::error::would_block) co_return 0;
        wait_first = true;
    }
}

// Writes all of `data` within the send timeout per step: a client that stops reading cannot hold
// the connection forever.
asio::awaitable<bool> TlsConnection::write_all(const char* data, size_t length) {
    auto self = shared_from_this();
    std::string rest;  // owned only when the client does not take everything at once
    asio::error_code error;
    while (length > 0) {
        size_t written = tls_.write_some(asio::buffer(data, length), error);
        data += written;
        length -= written;
        if (!error) continue;
        if (error != asio::error::would_block) co_return false;
        if (rest.empty() || data != rest.data()) {
            rest.assign(data, length);
            data = rest.data();
        }
        deadline_.expires_after(server_.front_end().send_timeout);
        co_await tls_.async_wait(tls::TlsSocket::wait_write,
                                 asio::redirect_error(asio::use_awaitable, error));
        deadline_.disarm();
        if (error) co_return false;
    }
    co_return true;
}

}  // namespace

asio::awaitable<void> serve_tls_connection(asio::ip::tcp::socket socket, Server& server,
                                           std::string address) {
    auto connection =
        std::make_shared<TlsConnection>(std::move(socket), server, std::move(address));
    std::optional<tls::TlsSocket> http1 = co_await connection->run();
    if (!http1) co_return;
    ConnectionOrigin origin{connection->address(), true};
    connection.reset();  // the handshake's state is not kept while the connection is served
    co_await serve_connection(std::move(*http1), server, std::move(origin));
}

}  // namespace passenger::server

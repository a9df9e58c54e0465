#include "proxy/tunnel.hpp"

#include "common/log.hpp"
#include "http/http2_stream_socket.hpp"
#include "http/response_head.hpp"
#include "tls/tls_socket.hpp"

#include <fmt/format.h>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <memory>
#include <span>
#include <string_view>

namespace passenger::proxy {
namespace {

using namespace std::chrono_literals;
using spawn::AppSocket;

// After one side closed, the other gets this long to close too (a WebSocket's closing handshake
// answers within milliseconds); then the tunnel is torn down.
constexpr auto half_close_grace = 10s;
// A side that keeps sending faster than the other takes it lets the other connections run after
// this many reads in a row.
constexpr int reads_between_yields = 16;

// Every tunnel reads into this one buffer and writes from it before it waits again, so a tunnel
// holds no buffer of its own while it waits (an open WebSocket is mostly waiting); only bytes the
// other side could not take at once are copied into a string the direction owns until they are
// written. One per thread: a tunnel only ever runs on its connection's event loop.
std::span<char> shared_read_buffer() {
    thread_local std::array<char, 64 * 1024> buffer;
    return buffer;
}

bool would_block(const asio::error_code& error) {
    return error == asio::error::would_block || error == asio::error::try_again;
}

// What the read end of a direction found: bytes (in the shared buffer), nothing yet, or its end.
template <typename Socket>
std::string_view read_now(Socket& socket, asio::error_code& error) {
    std::span<char> buffer = shared_read_buffer();
    size_t count = socket.read_some(asio::buffer(buffer.data(), buffer.size()), error);
    return std::string_view(buffer.data(), error ? 0 : count);
}

// Writes what the socket takes without blocking; returns the rest (empty when it took it all).
template <typename Socket>
std::string_view write_now(Socket& socket, std::string_view data, asio::error_code& error) {
    size_t written = socket.write_some(asio::buffer(data), error);
    if (would_block(error)) error.clear(), written = 0;
    return error ? std::string_view() : data.substr(written);
}

// What relay_available() stopped at.
enum class Relayed {
    drained,  // `from` has nothing more for now
    partial,  // `to` did not take a piece whole: `rest` holds what is left
    yield,    // `from` keeps sending: let the other connections run, then go on
    failed,   // `error` says why; a failure of `to` is broken_pipe, so it never looks like an EOF
};

// Reads `from` until it would block, writing each piece to `to` at once; what `to` does not
// take is copied out of the shared buffer into `rest`.
template <typename From, typename To>
Relayed relay_available(From& from, To& to, std::string& rest, asio::error_code& error,
                        uint64_t* bytes_written) {
    for (int reads = 0; reads < reads_between_yields; ++reads) {
        std::string_view piece = read_now(from, error);
        if (would_block(error)) {
            error.clear();
            return Relayed::drained;
        }
        if (error) return Relayed::failed;
        std::string_view left = write_now(to, piece, error);
        if (error) {
            error = asio::error::broken_pipe;
            return Relayed::failed;
        }
        if (bytes_written) *bytes_written += piece.size() - left.size();
        if (!left.empty()) {
            rest.assign(left);
            return Relayed::partial;
        }
    }
    return Relayed::yield;
}

// A tunnel: both sockets, the session, and the state of its two directions. Each direction runs
// on completion handlers that hold a shared_ptr to it: while both wait, the tunnel is this object
// and two pending readiness waits, nothing else (no coroutine frame, no buffer). `Client`: the
// client's socket type (asio::ip::tcp::socket, or tls::TlsSocket).
template <typename Client>
struct Tunnel : std::enable_shared_from_this<Tunnel<Client>> {
    Tunnel(TunnelClient<Client> client_side, AppSocket app_socket, pool::Session& request_session)
        : client(std::move(client_side.socket)),
          app(std::move(app_socket)),
          session(std::move(request_session)),
          send_timeout(client_side.send_timeout),
          ended(std::move(client_side.ended)),
          grace(client.get_executor()),
          send_deadline(client.get_executor()) {}

    // Ends both directions at once: every pending operation on either socket completes.
    void abort() {
        if (aborted || finished) return;
        aborted = true;
        grace.cancel();
        send_deadline.cancel();
        asio::error_code ignored;
        client.cancel(ignored);
        app.cancel(ignored);
        app.shutdown(AppSocket::shutdown_both, ignored);
    }
    // One direction finished cleanly: the other gets half_close_grace to finish as well.
    void on_direction_done() {
        if (++directions_done != 1 || aborted) return;
        grace.expires_after(half_close_grace);
        grace.async_wait([weak = this->weak_from_this()](const asio::error_code& error) {
            auto tunnel = weak.lock();
            if (!error && tunnel) tunnel->abort();
        });
    }
    // A direction stopped (cleanly or not); once both did, the tunnel closes.
    void on_direction_stopped() {
        if (++directions_stopped < 2) return;
        finished = true;
        grace.cancel();
        send_deadline.cancel();
        asio::error_code ignored;
        client.shutdown(Client::shutdown_both, ignored);
        client.close(ignored);
        app.close(ignored);
        log::debug("Tunnel to app process {} closed", session.process().pid);
        session.release();
        if (ended) ended(bytes_to_client);
    }

    Client client;
    AppSocket app;
    pool::Session session;  // the process counts the tunnel as a request in flight
    std::chrono::seconds send_timeout;
    std::function<void(uint64_t)> ended;
    asio::steady_timer grace;
    asio::steady_timer send_deadline;  // armed while bytes wait to be written to the client
    // Bytes one side did not take at once, written before that direction reads again.
    std::string client_pending;  // client to app
    std::string app_pending;     // app to client
    uint64_t bytes_to_client = 0;
    uint64_t client_writes = 0;  // writes of app_pending started (see write_app_pending)
    bool writing_to_client = false;
    int directions_done = 0;     // ended cleanly (a close passed on)
    int directions_stopped = 0;  // ended in any way
    bool aborted = false;        // closed by a failure, the pool, a timeout or the grace timer
    bool finished = false;       // both directions stopped: the sockets are closed
};

template <typename Client>
using TunnelPointer = std::shared_ptr<Tunnel<Client>>;

template <typename Client>
void client_to_app(TunnelPointer<Client> tunnel);
template <typename Client>
void app_to_client(TunnelPointer<Client> tunnel);

template <typename Client>
void on_client_side_end(const TunnelPointer<Client>& tunnel, asio::error_code error) {
    if (error == asio::error::eof && !tunnel->aborted) {
        // The client closed its side: so does the app's, which may still answer.
        asio::error_code ignored;
        tunnel->app.shutdown(AppSocket::shutdown_send, ignored);
        tunnel->on_direction_done();
    } else {
        tunnel->abort();
    }
    tunnel->on_direction_stopped();
}

template <typename Client>
void on_app_side_end(const TunnelPointer<Client>& tunnel, asio::error_code error) {
    if ((error == asio::error::eof || error == asio::error::connection_reset) && !tunnel->aborted) {
        asio::error_code ignored;
        tunnel->client.shutdown(Client::shutdown_send, ignored);
        tunnel->on_direction_done();
    } else {
        tunnel->abort();
    }
    tunnel->on_direction_stopped();
}

// Writes the bytes the app did not take at once, then goes on relaying.
template <typename Client>
void write_client_pending(TunnelPointer<Client> tunnel) {
    asio::async_write(tunnel->app, asio::buffer(tunnel->client_pending),
                      [tunnel](const asio::error_code& error, size_t) {
                          std::string().swap(tunnel->client_pending);
                          if (error) return on_client_side_end(tunnel, asio::error::broken_pipe);
                          client_to_app(tunnel);
                      });
}

// Writes the bytes the client did not take at once within the send timeout (a client that stops
// reading is cut, not waited for), then goes on relaying.
template <typename Client>
void write_app_pending(TunnelPointer<Client> tunnel) {
    // A write that ended just as its timer fired must not cut the next one: each write has its
    // own number.
    const uint64_t write = ++tunnel->client_writes;
    if (tunnel->send_timeout.count() > 0) {
        tunnel->send_deadline.expires_after(tunnel->send_timeout);
        tunnel->send_deadline.async_wait(
            [weak = std::weak_ptr<Tunnel<Client>>(tunnel), write](const asio::error_code& error) {
                auto held = weak.lock();
                if (!error && held && held->client_writes == write && held->writing_to_client)
                    held->abort();
            });
    }
    tunnel->writing_to_client = true;
    asio::async_write(tunnel->client, asio::buffer(tunnel->app_pending),
                      [tunnel](const asio::error_code& error, size_t written) {
                          tunnel->writing_to_client = false;
                          tunnel->send_deadline.cancel();
                          tunnel->bytes_to_client += written;
                          std::string().swap(tunnel->app_pending);
                          if (error) return on_app_side_end(tunnel, asio::error::broken_pipe);
                          app_to_client(tunnel);
                      });
}

// Relays what `from` has now; then waits for it to be readable, writes the rest, or lets the
// other connections run first.
template <typename Client, typename From, typename To>
void relay_direction(TunnelPointer<Client> tunnel, From& from, To& to, std::string& pending,
                     void (*again)(TunnelPointer<Client>),
                     void (*write_pending)(TunnelPointer<Client>),
                     void (*on_end)(const TunnelPointer<Client>&, asio::error_code),
                     uint64_t* bytes_written) {
    asio::error_code error;
    switch (relay_available(from, to, pending, error, bytes_written)) {
        case Relayed::drained:
            from.async_wait(From::wait_read, [tunnel = std::move(tunnel), again,
                                              on_end](const asio::error_code& wait_error) {
                if (wait_error) return on_end(tunnel, wait_error);
                again(tunnel);
            });
            return;
        case Relayed::partial:
            return write_pending(std::move(tunnel));
        case Relayed::yield: {
            auto executor = from.get_executor();
            asio::post(executor, [tunnel = std::move(tunnel), again] { again(tunnel); });
            return;
        }
        case Relayed::failed:
            return on_end(tunnel, error);
    }
}

template <typename Client>
void client_to_app(TunnelPointer<Client> tunnel) {
    Tunnel<Client>& t = *tunnel;
    relay_direction(std::move(tunnel), t.client, t.app, t.client_pending, client_to_app<Client>,
                    write_client_pending<Client>, on_client_side_end<Client>, nullptr);
}

template <typename Client>
void app_to_client(TunnelPointer<Client> tunnel) {
    Tunnel<Client>& t = *tunnel;
    relay_direction(std::move(tunnel), t.app, t.client, t.app_pending, app_to_client<Client>,
                    write_app_pending<Client>, on_app_side_end<Client>, &t.bytes_to_client);
}

}  // namespace

std::string upgrade_response_head(const http::MessageHead& response,
                                  std::string_view extra_header_lines) {
    std::string out = fmt::format("HTTP/1.1 101 {}\r\n", http::reason_phrase(101));
    for (const auto& [name, value] : response.headers) {
        if (http::iequals(name, "content-length") || http::iequals(name, "transfer-encoding") ||
            http::iequals(name, "keep-alive"))
            continue;
        out.append(name);
        out.append(": ");
        out.append(value);
        out.append("\r\n");
    }
    out.append(extra_header_lines);
    out.append("\r\n");
    return out;
}

template <typename Client>
bool start_tunnel(ClientContext<Client>& client, AppReader& app, pool::Session& session,
                  std::string response_head) {
    // Both directions read and write without blocking, then wait for readiness.
    asio::error_code error;
    client.reader.stream().non_blocking(true, error);
    if (!error) app.stream().non_blocking(true, error);
    if (error) {
        log::error("Cannot open a tunnel to app process {}: {}", session.process().pid,
                   error.message());
        return false;
    }
    log::debug("Tunnel open to app process {} for {}", session.process().pid,
               client.reader.head().target);
    // Bytes that arrived with the heads belong to the tunnel already; the readers go with the
    // request's coroutines.
    response_head += app.take_buffered();
    std::string early_bytes = client.reader.take_buffered();
    TunnelClient<Client> client_side = client.detach_for_tunnel();
    auto opened = std::move(client_side.opened);
    auto tunnel =
        std::make_shared<Tunnel<Client>>(std::move(client_side), std::move(app.stream()), session);
    if (opened) opened(tunnel->client);
    tunnel->session.register_tunnel([weak = std::weak_ptr<Tunnel<Client>>(tunnel)] {
        if (auto held = weak.lock()) held->abort();
    });
    tunnel->client_pending = std::move(early_bytes);
    tunnel->app_pending = std::move(response_head);
    if (tunnel->client_pending.empty()) {
        client_to_app(tunnel);
    } else {
        write_client_pending(tunnel);
    }
    write_app_pending(std::move(tunnel));
    return true;
}

template bool start_tunnel(ClientContext<asio::ip::tcp::socket>&, AppReader&, pool::Session&,
                           std::string);
template bool start_tunnel(ClientContext<tls::TlsSocket>&, AppReader&, pool::Session&, std::string);
template bool start_tunnel(ClientContext<http::Http2StreamSocket>&, AppReader&, pool::Session&,
                           std::string);

}  // namespace passenger::proxy

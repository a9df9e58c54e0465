#include "proxy/tunnel.hpp"

#include "common/log.hpp"
#include "http/response_head.hpp"
#include "tls/tls_socket.hpp"

#include <fmt/format.h>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
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
Relayed relay_available(From& from, To& to, std::string& rest, asio::error_code& error) {
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
        if (!left.empty()) {
            rest.assign(left);
            return Relayed::partial;
        }
    }
    return Relayed::yield;
}

// What the two directions of a tunnel and the pool's close callback share. `Client`: the client's
// socket type (asio::ip::tcp::socket, or tls::TlsSocket).
template <typename Client>
struct TunnelState : std::enable_shared_from_this<TunnelState<Client>> {
    TunnelState(Client& client, AppSocket& app)
        : client(&client),
          app(&app),
          grace(client.get_executor()),
          client_side_done(client.get_executor()) {}

    // Ends both directions at once: every pending operation on either socket completes.
    void abort() {
        if (aborted || ended) return;
        aborted = true;
        grace.cancel();
        asio::error_code ignored;
        client->cancel(ignored);
        app->cancel(ignored);
        app->shutdown(AppSocket::shutdown_both, ignored);
    }
    // One direction finished cleanly: the other gets half_close_grace to finish as well.
    void on_direction_done() {
        if (++directions_done != 1 || aborted) return;
        grace.expires_after(half_close_grace);
        grace.async_wait([weak = this->weak_from_this()](const asio::error_code& error) {
            auto state = weak.lock();
            if (!error && state) state->abort();
        });
    }

    Client* client;
    AppSocket* app;
    asio::steady_timer grace;
    int directions_done = 0;
    bool aborted = false;  // closed by a failure, the pool or the grace timer
    bool ended = false;    // run_tunnel() returned: the sockets may be gone
    // The client-to-app direction: bytes the app did not take at once, and its end.
    std::string client_pending;
    bool client_side_running = true;
    asio::steady_timer client_side_done;  // cancelled when that direction ends
};

// The client-to-app direction runs on completion handlers, not as a coroutine: while it waits
// it holds one pending operation and no frame.
template <typename Client>
void client_to_app(std::shared_ptr<TunnelState<Client>> state);

template <typename Client>
void on_client_side_end(const std::shared_ptr<TunnelState<Client>>& state, asio::error_code error) {
    if (error == asio::error::eof && !state->aborted) {
        // The client closed its side: so does the app's, which may still answer.
        asio::error_code ignored;
        state->app->shutdown(AppSocket::shutdown_send, ignored);
        state->on_direction_done();
    } else {
        state->abort();
    }
    state->client_side_running = false;
    state->client_side_done.cancel();
}

// Writes the bytes the app did not take at once, then goes on relaying.
template <typename Client>
void write_client_pending(std::shared_ptr<TunnelState<Client>> state) {
    asio::async_write(*state->app, asio::buffer(state->client_pending),
                      [state](const asio::error_code& error, size_t) {
                          std::string().swap(state->client_pending);
                          if (error) return on_client_side_end(state, asio::error::broken_pipe);
                          client_to_app(state);
                      });
}

template <typename Client>
void client_to_app(std::shared_ptr<TunnelState<Client>> state) {
    asio::error_code error;
    switch (relay_available(*state->client, *state->app, state->client_pending, error)) {
        case Relayed::drained:
            state->client->async_wait(Client::wait_read,
                                      [state](const asio::error_code& wait_error) {
                                          if (wait_error)
                                              return on_client_side_end(state, wait_error);
                                          client_to_app(state);
                                      });
            return;
        case Relayed::partial:
            return write_client_pending(std::move(state));
        case Relayed::yield:
            asio::post(state->client->get_executor(), [state] { client_to_app(state); });
            return;
        case Relayed::failed:
            return on_client_side_end(state, error);
    }
}

// Writes to the client go straight to its socket while they fit; what does not goes through the
// client's writer, so a client that stops reading meets the send timeout.
template <typename Client>
asio::awaitable<void> app_to_client(std::shared_ptr<TunnelState<Client>> state,
                                    ClientWriter<Client>& writer, std::string pending) {
    asio::error_code error;
    for (;;) {
        if (!pending.empty()) {
            writer.write(pending);
            co_await writer.wait_until_below(1);  // unbuffered: written before reading more
            if (writer.failed()) {
                error = asio::error::broken_pipe;
                break;
            }
            writer.release_memory();
            std::string().swap(pending);
        }
        Relayed relayed = relay_available(*state->app, *state->client, pending, error);
        if (relayed == Relayed::failed) break;
        if (relayed == Relayed::yield)
            co_await asio::post(state->app->get_executor(), asio::use_awaitable);
        if (relayed != Relayed::drained) continue;
        co_await state->app->async_wait(AppSocket::wait_read,
                                        asio::redirect_error(asio::use_awaitable, error));
        if (error) break;
    }
    if ((error == asio::error::eof || error == asio::error::connection_reset) && !state->aborted) {
        asio::error_code ignored;
        state->client->shutdown(Client::shutdown_send, ignored);
        state->on_direction_done();
    } else {
        state->abort();
    }
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
asio::awaitable<void> run_tunnel(ClientContext<Client>& client, AppReader& app,
                                 pool::Session& session, std::string response_head) {
    auto& client_socket = client.reader.stream();
    // Both directions read and write without blocking, then wait for readiness.
    asio::error_code error;
    client_socket.non_blocking(true, error);
    if (!error) app.stream().non_blocking(true, error);
    if (error) {
        log::error("Cannot open a tunnel to app process {}: {}", session.process().pid,
                   error.message());
        co_return;
    }
    auto state = std::make_shared<TunnelState<Client>>(client_socket, app.stream());
    session.register_tunnel([state] { state->abort(); });
    if (client.on_tunnel) client.on_tunnel();
    log::debug("Tunnel open to app process {} for {}", session.process().pid,
               client.reader.head().target);

    // Bytes that arrived with the heads belong to the tunnel already. Neither reader keeps a
    // buffer or a head while the tunnel lasts.
    response_head += app.take_buffered();
    std::string early_bytes = client.reader.take_buffered();
    app.parser().release_storage();
    client.reader.parser().release_storage();
    // One direction on completion handlers, the other in this coroutine: no parallel group, no
    // second coroutine. The sockets are the caller's, so this returns only once both ended.
    state->client_pending = std::move(early_bytes);
    if (state->client_pending.empty()) {
        client_to_app(state);
    } else {
        write_client_pending(state);
    }
    co_await app_to_client(state, *client.writer, std::move(response_head));
    while (state->client_side_running) {
        state->client_side_done.expires_at(asio::steady_timer::time_point::max());
        co_await state->client_side_done.async_wait(
            asio::redirect_error(asio::use_awaitable, error));
    }
    state->ended = true;
    state->grace.cancel();
    log::debug("Tunnel to app process {} closed", session.process().pid);
}

template asio::awaitable<void> run_tunnel(ClientContext<asio::ip::tcp::socket>&, AppReader&,
                                          pool::Session&, std::string);
template asio::awaitable<void> run_tunnel(ClientContext<tls::TlsSocket>&, AppReader&,
                                          pool::Session&, std::string);

}  // namespace passenger::proxy

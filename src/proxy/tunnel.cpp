#include "proxy/tunnel.hpp"

#include "common/log.hpp"
#include "http/response_head.hpp"

#include <fmt/format.h>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <chrono>
#include <memory>

namespace passenger::proxy {
namespace {

using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using spawn::AppSocket;

constexpr size_t read_size = 16 * 1024;
// After one side closed, the other gets this long to close too (a WebSocket's closing handshake
// answers within milliseconds); then the tunnel is torn down.
constexpr auto half_close_grace = 10s;

// What the two directions of a tunnel and the pool's close callback share.
struct TunnelState : std::enable_shared_from_this<TunnelState> {
    TunnelState(asio::ip::tcp::socket& client, AppSocket& app)
        : client(&client), app(&app), grace(client.get_executor()) {}

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
        grace.async_wait([weak = weak_from_this()](const asio::error_code& error) {
            auto state = weak.lock();
            if (!error && state) state->abort();
        });
    }

    asio::ip::tcp::socket* client;
    AppSocket* app;
    asio::steady_timer grace;
    int directions_done = 0;
    bool aborted = false;  // closed by a failure, the pool or the grace timer
    bool ended = false;    // run_tunnel() returned: the sockets may be gone
};

asio::awaitable<void> client_to_app(std::shared_ptr<TunnelState> state, std::string early_bytes) {
    asio::error_code error;
    if (!early_bytes.empty()) {
        co_await asio::async_write(*state->app, asio::buffer(early_bytes),
                                   asio::redirect_error(asio::use_awaitable, error));
    }
    std::array<char, read_size> buffer;
    while (!error) {
        size_t count = co_await state->client->async_read_some(
            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
        if (error) break;
        co_await asio::async_write(*state->app, asio::buffer(buffer.data(), count),
                                   asio::redirect_error(asio::use_awaitable, error));
        if (error) error = asio::error::broken_pipe;  // the app side failed: no clean end
    }
    if (error == asio::error::eof && !state->aborted) {
        // The client closed its side: so does the app's, which may still answer.
        asio::error_code ignored;
        state->app->shutdown(AppSocket::shutdown_send, ignored);
        state->on_direction_done();
    } else {
        state->abort();
    }
}

asio::awaitable<void> app_to_client(std::shared_ptr<TunnelState> state, ClientWriter& writer,
                                    std::string first_bytes) {
    asio::error_code error;
    std::string piece = std::move(first_bytes);
    std::array<char, read_size> buffer;
    for (;;) {
        if (!piece.empty()) {
            writer.write(piece);
            co_await writer.wait_until_below(1);  // unbuffered: written before reading more
            if (writer.failed()) {
                error = asio::error::broken_pipe;
                break;
            }
        }
        size_t count = co_await state->app->async_read_some(
            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
        if (error) break;
        piece.assign(buffer.data(), count);
    }
    if ((error == asio::error::eof || error == asio::error::connection_reset) && !state->aborted) {
        asio::error_code ignored;
        state->client->shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
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

asio::awaitable<void> run_tunnel(ClientContext& client, AppReader& app, pool::Session& session,
                                 std::string response_head) {
    auto& client_socket = client.reader.stream();
    auto state = std::make_shared<TunnelState>(client_socket, app.stream());
    session.register_tunnel([state] { state->abort(); });
    if (client.on_tunnel) client.on_tunnel();
    log::debug("Tunnel open to app process {} for {}", session.process().pid,
               client.reader.head().target);

    // Bytes that arrived with the heads belong to the tunnel already.
    response_head += app.take_buffered();
    co_await (client_to_app(state, client.reader.take_buffered()) &&
              app_to_client(state, *client.writer, std::move(response_head)));
    state->ended = true;
    state->grace.cancel();
    log::debug("Tunnel to app process {} closed", session.process().pid);
}

}  // namespace passenger::proxy

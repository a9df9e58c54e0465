#include "server/parked_connection.hpp"

#include "common/log.hpp"
#include "server/connection.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>

namespace passenger::server {
namespace {

// The granularity of a parked connection's deadline: it only ever has the keep-alive timeout.
constexpr std::chrono::seconds parked_timer_granularity{60};

void on_parked_readable(std::unique_ptr<ParkedConnection> parked, const asio::error_code& error) {
    Server& server = parked->server;
    if (error || server.shutting_down()) {
        // The keep-alive timeout passed (the deadline cancelled the wait), the server shuts
        // down (it cancels idle connections), or the socket failed.
        if (parked->keepalive.expired()) log::debug("Closed an idle connection");
        asio::error_code ignored;
        parked->socket.close(ignored);
        server.unregister_connection(parked->registration);
        return;
    }
    auto executor = parked->socket.get_executor();
    asio::co_spawn(executor, serve_parked_connection(std::move(parked)), asio::detached);
}

}  // namespace

ParkedConnection::ParkedConnection(asio::ip::tcp::socket socket, Server& server,
                                   Server::ConnectionHandle registration)
    : socket(std::move(socket)),
      server(server),
      registration(registration),
      keepalive(this->socket, parked_timer_granularity) {
    registration->socket = &this->socket;
    registration->busy = false;
}

void park_connection(asio::ip::tcp::socket socket, Server& server,
                     Server::ConnectionHandle registration,
                     std::chrono::steady_clock::duration keepalive_left) {
    auto parked = std::make_unique<ParkedConnection>(std::move(socket), server, registration);
    parked->keepalive.expires_after(keepalive_left);
    asio::ip::tcp::socket& parked_socket = parked->socket;
    // The reader found the socket drained before the connection parked, so the next bytes raise
    // a new readiness event for this wait.
    parked_socket.async_wait(asio::ip::tcp::socket::wait_read,
                             [parked = std::move(parked)](const asio::error_code& error) mutable {
                                 on_parked_readable(std::move(parked), error);
                             });
}

}  // namespace passenger::server

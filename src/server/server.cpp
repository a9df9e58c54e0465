#include "server/server.hpp"

#include "common/log.hpp"
#include "server/connection.hpp"

#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

asio::ip::tcp protocol_of(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return address.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
}

}  // namespace

// In integration mode the listening socket is a Unix socket; the tcp acceptor and sockets carry
// it all the same (accept, read, write and shutdown are the same calls), so the front end needs
// no second socket type. Only the peer address differs: the module sends the client's.
Server::Server(asio::io_context& io, const config::Options& options, int listen_fd,
               AppOptionsParser app_options_parser)
    : io_(io),
      options_(options),
      acceptor_(io, protocol_of(listen_fd), listen_fd),
      reaper_(io),
      spawner_(io, options, reaper_),
      group_(io, options, spawner_, reaper_),
      static_files_(options.app_root + "/public"),
      front_end_(options.front_end),
      admin_(io, options, group_, requests_),
      integration_apps_(app_options_parser
                            ? std::make_unique<IntegrationApps>(std::move(app_options_parser))
                            : nullptr) {}

void Server::start() {
    if (!integration_apps_) group_.start();  // integration mode: apps start on first request
    admin_.start();                          // a failure is logged; the server serves anyway
    asio::co_spawn(io_, accept_loop(), asio::detached);
}

asio::awaitable<void> Server::accept_loop() {
    asio::steady_timer pause(io_);
    while (!shutting_down_) {
        asio::error_code error;
        asio::ip::tcp::socket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, error));
        if (error == asio::error::operation_aborted || shutting_down_) break;
        if (error) {
            // Out of descriptors or memory: wait a little instead of spinning.
            log::error("accept() failed: {}", error.message());
            pause.expires_after(100ms);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
            continue;
        }
        asio::co_spawn(io_, serve_connection(std::move(socket), *this), asio::detached);
    }
}

Server::ConnectionHandle Server::register_connection(asio::ip::tcp::socket& socket) {
    connections_.push_back({&socket, false});
    return std::prev(connections_.end());
}

void Server::unregister_connection(ConnectionHandle handle) {
    connections_.erase(handle);
}

void Server::on_tunnel_opened(asio::ip::tcp::socket& socket) {
    for (auto& entry : connections_) {
        if (entry.socket == &socket) entry.busy = false;
    }
}

asio::awaitable<void> Server::shut_down() {
    if (shutting_down_) co_return;
    shutting_down_ = true;
    log::notice("Shutting down: no new connections; waiting for requests in flight");
    asio::error_code ignored;
    acceptor_.close(ignored);

    auto close_idle = [this, &ignored] {
        for (auto& entry : connections_) {
            if (!entry.busy) entry.socket->cancel(ignored);
        }
    };
    asio::steady_timer timer(io_);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.graceful_shutdown_seconds);
    while (!connections_.empty() && std::chrono::steady_clock::now() < deadline) {
        close_idle();  // a busy connection becomes idle once its response is written
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (!connections_.empty()) {
        log::warn("{} request(s) still in flight after {} s; closing them", connections_.size(),
                  options_.graceful_shutdown_seconds);
        for (auto& entry : connections_) entry.socket->close(ignored);
    }
    co_await group_.shutdown();
    admin_.stop();  // removes the registry entry
    log::notice("Shutdown complete");
    io_.stop();
}

}  // namespace passenger::server

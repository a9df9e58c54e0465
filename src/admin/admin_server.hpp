// The admin API's socket: HTTP/1.1 on a Unix socket (mode 0600), served by the core's event loop
// with the front end's parser (http::MessageReader). Each connection's peer credentials are read
// once (SO_PEERCRED) and every request is checked against them (admin/access_policy.hpp).
#pragma once

#include "admin/admin_routes.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>

#include <list>
#include <memory>
#include <string>

namespace passenger::admin {

class AdminServer {
  public:
    static constexpr size_t kMaxConnections = 32;

    AdminServer(asio::io_context& io, AdminBackend& backend);
    AdminServer(const AdminServer&) = delete;
    AdminServer& operator=(const AdminServer&) = delete;
    ~AdminServer();

    // Binds `socket_path` (replacing a leftover socket file) with mode 0600 and starts accepting.
    // Returns a message naming what failed, or "".
    std::string listen(const std::string& socket_path);
    // Stops accepting, closes every admin connection and removes the socket file.
    void stop();

  private:
    using Socket = asio::local::stream_protocol::socket;
    asio::awaitable<void> accept_loop();
    asio::awaitable<void> serve(std::shared_ptr<Socket> socket);

    asio::io_context& io_;
    AdminBackend& backend_;
    asio::local::stream_protocol::acceptor acceptor_;
    std::string socket_path_;
    std::list<std::weak_ptr<Socket>> connections_;
    bool stopped_ = true;
};

}  // namespace passenger::admin

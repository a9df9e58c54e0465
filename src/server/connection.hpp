// One client connection, as a coroutine: read a request head, answer it (static file, error, or
// proxied to the app), repeat while keep-alive allows.
#pragma once

#include "server/server.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>

namespace passenger::server {

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Server& server);

struct ParkedConnection;
// A parked connection whose next request is arriving (parked_connection.hpp).
asio::awaitable<void> serve_parked_connection(std::unique_ptr<ParkedConnection> parked);

}  // namespace passenger::server

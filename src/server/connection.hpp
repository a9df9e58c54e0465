// One client connection, as a coroutine: read a request head, answer it (static file, error, or
// proxied to the app), repeat while keep-alive allows.
#pragma once

#include "server/server.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace passenger::server {

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Server& server);

}  // namespace passenger::server

// --health-check-path: the answer a load balancer polls. Given by the core itself, never by the
// app, and not counted or logged as an app request: 200 while the instance takes work, 503 while
// it drains, stops or one of its apps can have no process (server/README.md "Operations").
#pragma once

#include "http/message_parser.hpp"

#include <asio/awaitable.hpp>

#include <string>

namespace passenger::server {

class Server;

// Whether `head` asks for the health check (GET or HEAD of exactly that path, query ignored).
bool is_health_check(Server& server, const http::MessageHead& head);
// The whole response for the server's current state (the pool's, asked on the main loop).
asio::awaitable<std::string> health_check_response(Server& server, const http::MessageHead& head,
                                                   bool keep_alive);

}  // namespace passenger::server

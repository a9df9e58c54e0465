// An idle keep-alive connection that has waited `park_after` without a request is parked: the
// coroutine that served it ends (its frame, reader, writer, timer and buffers are freed) and its
// descriptor leaves the event loop for the parking lot of its io_context: one epoll set of the
// lot's own, which the loop watches as a single descriptor, and one small record per connection
// (its descriptor, registration and keep-alive deadline: a few dozen bytes, where the socket
// kept in the loop cost about a kilobyte with its reactor state, timer and pending operations).
// Bytes arriving (or the client closing) start a new connection coroutine on the same descriptor
// (serve_parked_connection); the keep-alive timeout or shutdown closes it. Like nginx, which
// keeps an idle connection in a few hundred bytes.
#pragma once

#include "server/server.hpp"

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <chrono>

namespace passenger::server {

// A connection waits this long for its next request before it is parked: long enough that a
// client sending requests back to back never pays for it, short enough that the memory of a
// connection that went idle is reused by the next ones instead of piling up.
constexpr std::chrono::milliseconds park_after{50};

// A parked connection whose next request is arriving, handed to serve_parked_connection.
struct ParkedConnection {
    asio::ip::tcp::socket socket;
    Server& server;
    Server::ConnectionHandle registration;
};

// Parks the connection for at most `keepalive_left` (zero: no limit); its registration has no
// socket meanwhile. Every connection of a Server parks with the same time left, so the oldest
// parked is the first to expire. Returns false, leaving the socket as it was, when the lot cannot
// take it (no descriptor left for the lot's epoll set): the caller keeps waiting itself.
bool park_connection(asio::ip::tcp::socket& socket, Server& server,
                     Server::ConnectionHandle registration,
                     std::chrono::steady_clock::duration keepalive_left);

// Closes every connection parked on `io` and unregisters it (shutdown).
void close_parked_connections(asio::io_context& io);

}  // namespace passenger::server

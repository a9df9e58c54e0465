// An idle keep-alive connection that has waited `park_after` without a request is parked: the
// coroutine that served it ends (its frame, reader, writer and buffers are freed) and what is
// left is its socket, its registration with the Server and its keep-alive deadline, waiting
// for readability with one pending operation. Bytes arriving start a new connection coroutine
// on the same socket (serve_parked_connection); the keep-alive timeout, shutdown or an error
// close it. This is what lets an idle connection cost less than a kilobyte.
#pragma once

#include "common/socket_deadline.hpp"
#include "server/server.hpp"

#include <asio/ip/tcp.hpp>

#include <chrono>
#include <memory>

namespace passenger::server {

// A connection waits this long for its next request before it is parked: long enough that a
// client sending requests back to back never pays for it, short enough that the memory of a
// connection that went idle is reused by the next ones instead of piling up.
constexpr std::chrono::milliseconds park_after{100};

struct ParkedConnection {
    ParkedConnection(asio::ip::tcp::socket socket, Server& server,
                     Server::ConnectionHandle registration);

    asio::ip::tcp::socket socket;
    Server& server;
    Server::ConnectionHandle registration;  // points at `socket` while parked
    SocketDeadline keepalive;
};

// Parks the connection for at most `keepalive_left` (zero: no limit).
void park_connection(asio::ip::tcp::socket socket, Server& server,
                     Server::ConnectionHandle registration,
                     std::chrono::steady_clock::duration keepalive_left);

}  // namespace passenger::server

// One client connection, as a coroutine: read a request head, answer it (static file, error, or
// proxied to the app), repeat while keep-alive allows.
#pragma once

#include "http/http2_stream_socket.hpp"
#include "server/server.hpp"
#include "tls/tls_socket.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <memory>
#include <string>

namespace passenger::server {

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Server& server,
                                       ConnectionOrigin origin = {});
// An HTTPS connection after its handshake, served directly (`origin`: its address, https).
asio::awaitable<void> serve_connection(tls::TlsSocket socket, Server& server,
                                       ConnectionOrigin origin);
// One HTTP/2 stream's request (server/http2_session.hpp; `origin`: the TLS connection's address,
// https, http2).
asio::awaitable<void> serve_connection(http::Http2StreamSocket stream, Server& server,
                                       ConnectionOrigin origin);

// The peer's address as X-Forwarded-For shows it (IPv4-mapped IPv6 as IPv4), or "unknown".
std::string peer_address(const asio::ip::tcp::socket& socket);

struct ParkedConnection;
// A parked connection whose next request is arriving (parked_connection.hpp).
asio::awaitable<void> serve_parked_connection(std::unique_ptr<ParkedConnection> parked);

}  // namespace passenger::server

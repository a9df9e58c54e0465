// One client connection on an HTTPS listener. It peeks at the first byte (plain HTTP gets a
// clear-text 400, as nginx answers it), does the TLS handshake within --client-header-timeout,
// and then serves the connection with the very same code as plain HTTP (serve_connection):
// directly over its tls::TlsSocket (HTTP/1.1), or each h2 stream over an in-memory
// http::Http2StreamSocket (server/http2_session.hpp). So every limit, timeout, static file,
// buffer, tunnel and the pool apply unchanged, and plain HTTP pays nothing for TLS.
#pragma once

#include "server/server.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <string>

namespace passenger::server {

// `address`: the client's, from the accept (empty: asked from the socket).
asio::awaitable<void> serve_tls_connection(asio::ip::tcp::socket socket, Server& server,
                                           std::string address);

}  // namespace passenger::server

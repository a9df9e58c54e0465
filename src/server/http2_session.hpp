// HTTP/2 on a TLS connection whose client chose "h2" by ALPN (libnghttp2). Each stream becomes
// one HTTP/1.1 request served by the same serve_connection() as any other, over an in-memory
// stream of its own (http/http2_stream_socket.hpp; no descriptor, no syscall): the connection
// code reads the head and body in HTTP/1.1 (chunked when the client gave no length), and what it
// writes is parsed with the response parser as it comes and sent as HEADERS and DATA. So every
// check, limit, static file, buffer, sticky session, tunnel and the pool apply to each stream
// unchanged. Bounded: 100 concurrent streams, the header list by --client-max-header-size,
// request bodies by HTTP/2 flow control (a window is given back only once the connection code
// read the bytes), responses by 64 KiB queued per stream; nghttp2 refuses SETTINGS/PING floods
// and rate-limits stream resets (CVE-2023-44487).
#pragma once

#include "server/server.hpp"
#include "server/tls_stream.hpp"

#include <asio/awaitable.hpp>

#include <string>

namespace passenger::server {

// Serves the connection until the client closes it, fails, or stays idle for
// --keepalive-timeout without a stream open.
asio::awaitable<void> serve_http2(TlsStream& stream, Server& server, std::string address);

}  // namespace passenger::server

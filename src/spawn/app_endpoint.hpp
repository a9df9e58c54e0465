// Where an app process listens: a Unix socket (Node, Ruby, Python loaders) or a loopback TCP port
// (generic apps and `meteor run`, which choose their own socket type). One generic stream
// protocol carries both, so the proxy and readiness checks need no second code path.
#pragma once

#include <asio/generic/stream_protocol.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/local/stream_protocol.hpp>

#include <string>

namespace passenger::spawn {

using AppEndpoint = asio::generic::stream_protocol::endpoint;
using AppSocket = asio::generic::stream_protocol::socket;

inline AppEndpoint unix_endpoint(const std::string& path) {
    return AppEndpoint(asio::local::stream_protocol::endpoint(path));
}

inline AppEndpoint loopback_endpoint(unsigned short port) {
    return AppEndpoint(asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), port));
}

// "unix:/tmp/x.sock" or "127.0.0.1:4000", for logs and status output.
std::string describe(const AppEndpoint& endpoint);

}  // namespace passenger::spawn

// What accept4 already told us about a new connection, kept so that nothing asks the kernel again
// (issue 15: syscalls per connection, bench/RESULTS.md "TLS: handshake syscalls"): the peer's
// address comes from accept4's sockaddr, not from a getpeername per connection.
#pragma once

#include <sys/socket.h>
#include <asio/ip/tcp.hpp>

#include <string>

namespace passenger::server {

// A connection taken from a listener, on its way to the loop that serves it.
struct AcceptedConnection {
    int fd = -1;
    asio::ip::tcp protocol = asio::ip::tcp::v4();
    std::string address;  // the peer's (address_text); empty: ask the socket
};

// An address as X-Forwarded-For and the logs show it: IPv4-mapped IPv6 as IPv4.
std::string address_text(const asio::ip::tcp::endpoint& endpoint);
// The same from accept4's sockaddr; empty when it is not IPv4 or IPv6.
std::string address_text(const sockaddr_storage& address, socklen_t length);

}  // namespace passenger::server

// What accept4 already told us about a new connection, kept so that nothing asks the kernel again
// (issue 15: syscalls per connection, bench/RESULTS.md "TLS: handshake syscalls"): the peer's
// address comes from accept4's sockaddr, not from a getpeername per connection, and asio is told
// what it would otherwise find out or guard against by a syscall each (adopt_accepted).
#pragma once

#include <sys/socket.h>
#include <asio/io_context.hpp>
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

// `fd` (from accept4 with SOCK_NONBLOCK, ours alone) as a socket of `io`, as asio's own accept
// would leave it: known to be non-blocking (else asio's first asynchronous operation sets it
// again with an FIONBIO ioctl) and not a possible duplicate (else asio deletes it from epoll
// before closing it, which the kernel does by itself when the last descriptor of a socket
// closes). On error `fd` is not taken (the caller closes it).
asio::ip::tcp::socket adopt_accepted(asio::io_context& io, asio::ip::tcp protocol, int fd,
                                     asio::error_code& error);

}  // namespace passenger::server

// The watchdog binds the server's listening socket itself, so that a restarted core inherits the
// same socket and no connection is refused while the core is away.
#pragma once

#include "common/file_descriptor.hpp"

#include <string>

namespace passenger::watchdog {

struct Listener {
    FileDescriptor socket;  // listening, close-on-exec; invalid when `error` is set
    std::string error;      // one line, e.g. "cannot listen on 0.0.0.0:3000: address already in use
                            // (is another server running on that port?)"
};

// `address` is a numeric IPv4/IPv6 address or a host name; port 0 picks a free port.
Listener bind_listener(const std::string& address, int port);

// The port a bound socket actually listens on (useful after binding port 0), or -1.
int local_port(int socket_fd);

// "0.0.0.0:3000" or "[::1]:3000": how addresses appear in messages and URLs.
std::string format_host_port(const std::string& address, int port);

}  // namespace passenger::watchdog

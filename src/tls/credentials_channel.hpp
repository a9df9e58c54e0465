// Handing TLS credentials from the watchdog to the core over a Unix socket pair, at each core
// start and on each reload: one message per handover, carrying a sealed memfd (SCM_RIGHTS) that
// holds the PEM text. Nothing touches the file system, the core never needs to read the key
// file (it may run as --user, who must not be able to), and the descriptors are close-on-exec
// on both sides, so app processes never inherit them.
#pragma once

#include "tls/credentials.hpp"

#include <string>
#include <variant>

namespace passenger::tls {

// Sends one handover on `socket_fd` without blocking; "" or why it failed.
std::string send_credentials(int socket_fd, const Credentials& credentials);

enum class ChannelEnd { closed, nothing_yet };
// Receives one handover from `socket_fd` (blocking or not, as the socket is): the credentials,
// the end of the channel (or nothing waiting, for a non-blocking one), or an error line.
std::variant<Credentials, ChannelEnd, std::string> receive_credentials(int socket_fd);

}  // namespace passenger::tls

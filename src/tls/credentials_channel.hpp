// Handing TLS credentials from the watchdog to the core over a Unix socket pair, at each core
// start and on each reload: one message per handover, carrying a sealed memfd (SCM_RIGHTS) that
// holds the PEM text. Nothing touches the file system, the core never needs to read the key
// file (it may run as --user, who must not be able to), and the descriptors are close-on-exec
// on both sides, so app processes never inherit them.
#pragma once

#include "tls/credentials.hpp"

#include <string>
#include <string_view>
#include <variant>

namespace passenger::tls {

// Sends one handover on `socket_fd` without blocking; "" or why it failed.
std::string send_credentials(int socket_fd, const Credentials& credentials);
// Tells the core that a reload was asked for but the files did not load (it keeps its pair and
// reports `reason` to `passenger-config reload-ssl`); "" or why it could not be sent.
std::string send_refused_reload(int socket_fd, std::string_view reason);

struct RefusedReload {
    std::string reason;
};
enum class ChannelEnd { closed, nothing_yet };
// Receives one handover from `socket_fd` (blocking or not, as the socket is): the credentials,
// a refused reload, the end of the channel (or nothing waiting, for a non-blocking one), or an
// error line.
std::variant<Credentials, RefusedReload, ChannelEnd, std::string> receive_credentials(
    int socket_fd);

}  // namespace passenger::tls

// systemd's readiness protocol (sd_notify(3)), written out: one datagram of NAME=VALUE lines to
// the Unix socket $NOTIFY_SOCKET names ("/path", or "@name" in the abstract namespace). With
// Type=notify, systemd counts the service as started on READY=1 and as stopping on STOPPING=1.
#pragma once

#include <string>
#include <string_view>

namespace passenger {

// Takes $NOTIFY_SOCKET out of the environment (the core and the apps must not inherit it: they
// are not the service's main process) and remembers it for notify_systemd().
void take_notify_socket_from_environment();

// Sends `state` ("READY=1", "STOPPING=1"); without a notify socket, nothing. Returns why it
// could not, or "".
std::string notify_systemd(std::string_view state);

// The same to an explicit socket address (for tests).
std::string send_notification(const std::string& socket, std::string_view state);

}  // namespace passenger

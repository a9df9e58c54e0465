// Integration mode: the configuration message the nginx module sends on the lifeline (every app
// it configures and its http{} settings; src/integrations/README.md, channel version 2). The
// watchdog keeps the latest one and hands it to the core over the module socket, to the running
// core when it arrives and to every core started later, so a restarted core knows it too.
#pragma once

#include <string>

namespace passenger::watchdog {

// After the lifeline's 'c': reads u32 length C and C bytes (blocking). Returns "" or why not.
std::string read_configuration_frame(int lifeline_fd, std::string& payload);

// Connects to the socket `listen_fd` is bound to and writes config::kConfigurationMarker, the
// length and the payload. The connection waits in the backlog until the core accepts it (a core
// just started included). Returns "" or why not.
std::string send_configuration_to_core(int listen_fd, const std::string& payload);

}  // namespace passenger::watchdog

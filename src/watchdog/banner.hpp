// The "web server started" banner, shown once the core accepts connections, as Passenger
// Standalone shows it: where the pid and log files are, the URL, and how to stop the server.
#pragma once

#include "config/options.hpp"

#include <string>

namespace passenger::watchdog {

// `stop_command` is how to stop a daemon (see stop_command_for); unused in the foreground.
// Lines end with '\n'.
std::string format_banner(const config::Options& options, const std::string& stop_command);

// The shortest `passenger stop ...` that finds this server's pid file when typed in `cwd`.
std::string stop_command_for(const config::Options& options, const std::string& cwd);

}  // namespace passenger::watchdog

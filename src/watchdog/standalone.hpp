// What `passenger start` becomes once its command line is valid: the watchdog of one Standalone
// server. Checks the pid file, binds the listening socket, opens the log, optionally daemonizes,
// writes the pid file, supervises the core until told to stop, and cleans up.
#pragma once

#include "config/options.hpp"

#include <string_view>

namespace passenger::watchdog {

// `options` is complete and validated (absolute app_root, log_file, pid_file). Failures before
// the banner appear as one line on stderr starting with `error_prefix` ("passenger start").
// Returns the process exit code.
int run_standalone(const config::Options& options, std::string_view error_prefix);

}  // namespace passenger::watchdog

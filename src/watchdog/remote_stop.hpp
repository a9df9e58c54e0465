// `passenger stop`: signal the server named by a pid file and wait until it is gone. The
// watchdog it signals stops its core, which stops the app processes, before exiting, so "gone"
// means the whole tree is gone.
#pragma once

#include <signal.h>

#include <chrono>
#include <string>

namespace passenger::watchdog {

// Returns "" once the process has exited (and the pid file is removed), else one error line.
// A stale pid file (no such process) is removed and reported as an error.
// `signal_number`: SIGTERM lets a server with --drain-timeout drain first; SIGINT stops it at
// once (plain `passenger stop`).
std::string stop_server(const std::string& pid_file, std::chrono::milliseconds timeout,
                        int signal_number = SIGTERM);

}  // namespace passenger::watchdog

// --daemonize: the classic double fork. The original process stays until the daemon reports
// through a pipe that the server is ready (then it prints the banner and exits 0) or that it
// failed (then it prints the reason and exits 1), so the user still sees errors on the terminal.
#pragma once

#include "common/file_descriptor.hpp"

#include <string>

namespace passenger::watchdog {

struct Daemonization {
    // In the daemon: detached (own session, stdio on /dev/null), holding `status_writer`.
    bool in_daemon = false;
    FileDescriptor status_writer;
    // In the original process: "" if the daemon said it is ready, else one error line.
    std::string failure;
};

Daemonization daemonize();

// Called in the daemon, once: tells the original process the outcome and closes the pipe.
void report_daemon_ready(FileDescriptor& status_writer);
void report_daemon_failure(FileDescriptor& status_writer, const std::string& error);

}  // namespace passenger::watchdog

// Starting one core process: fork, then exec this same binary as `passenger core` with the
// listening socket at fd 3, the readiness pipe at fd 4, the HTTPS listening socket at fd 5 and
// the TLS credentials channel at fd 6 (when there are), and the variables of
// common/core_environment.hpp.
#pragma once

#include "common/file_descriptor.hpp"
#include "config/options.hpp"

#include <signal.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace passenger::watchdog {

// What to exec as the core. Always this binary as `passenger core`, except in tests.
struct CoreCommand {
    std::string executable = "/proc/self/exe";
    std::vector<std::string> argv = {"passenger", "core"};
};

struct CoreLaunch {
    pid_t pid = -1;               // > 0 when the exec succeeded
    FileDescriptor ready_reader;  // readable end of the readiness pipe, when one was asked for
    std::string error;            // one line when fork or exec failed
};

// The sockets the core inherits (-1: none).
struct CoreSockets {
    int listen = -1;       // becomes fd 3
    int ssl_listen = -1;   // becomes fd 5 (--ssl-port)
    int tls_channel = -1;  // becomes fd 6 (--ssl)
};

// `child_mask` is the signal mask the core runs with (the watchdog blocks the ones it handles).
// Returns once the exec has succeeded or failed.
CoreLaunch launch_core(const CoreCommand& command, const config::Options& options,
                       const CoreSockets& sockets, bool want_readiness, const sigset_t& child_mask);

}  // namespace passenger::watchdog

// A pid that certainly names no process, for unit tests of code that asks whether one is alive.
#pragma once

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace passenger::testing {

// A child started and reaped (its pid could be reused meanwhile, but not within a test).
inline pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) ::_exit(0);
    ::waitpid(pid, nullptr, 0);
    return pid;
}

}  // namespace passenger::testing

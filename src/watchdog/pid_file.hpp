// The pid file names the watchdog (or daemon) process of one running server. `passenger start`
// refuses to start over a live one; `passenger stop` signals the pid in it.
#pragma once

#include <sys/types.h>

#include <string>

namespace passenger::watchdog {

struct PidFileContents {
    enum class State { missing, unreadable, malformed, valid };
    State state = State::missing;
    pid_t pid = 0;      // when valid
    std::string error;  // when unreadable or malformed: one line naming the file
};

PidFileContents read_pid_file(const std::string& path);

// Writes atomically (temporary file + rename), so a reader never sees a half-written pid.
// Returns an error line or "".
std::string write_pid_file(const std::string& path, pid_t pid);

// Removes the file only if it still names `pid`: another server may have taken it over.
void remove_pid_file_if_owned(const std::string& path, pid_t pid);

// True if a process with this pid exists (even one we may not signal).
bool process_is_alive(pid_t pid);

}  // namespace passenger::watchdog

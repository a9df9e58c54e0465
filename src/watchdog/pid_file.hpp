// The pid file names the watchdog (or daemon) process of one running server. `passenger start`
// refuses to start over a live one; `passenger stop` signals the pid in it. It often lives in the
// app user's folder while root writes and reads it: it is opened by common/safe_file's rules, and
// the watchdog keeps it open for its whole life, so that a pid is believed only when its process
// holds that very file open (a forged file naming another process is not).
#pragma once

#include "common/file_descriptor.hpp"

#include <sys/types.h>

#include <string>

namespace passenger::watchdog {

struct PidFileContents {
    enum class State { missing, unreadable, malformed, valid };
    State state = State::missing;
    pid_t pid = 0;      // when valid
    std::string error;  // when unreadable or malformed: one line naming the file
    dev_t device = 0;   // the file read (when valid)
    ino_t inode = 0;
};

PidFileContents read_pid_file(const std::string& path);

struct WrittenPidFile {
    FileDescriptor file;  // the pid file, open: the writer keeps it as long as it runs
    std::string error;    // one line, when it could not be written
};

// Writes atomically (a new temporary file + rename), so a reader never sees a half-written pid.
WrittenPidFile write_pid_file(const std::string& path, pid_t pid);

// Removes the file only if it still names `pid`: another server may have taken it over.
void remove_pid_file_if_owned(const std::string& path, pid_t pid);

// True if a process with this pid exists (even one we may not signal).
bool process_is_alive(pid_t pid);

enum class PidFileHolder {
    server,         // the process holds the very file read: it wrote it
    other_process,  // it does not: the file was forged, or the pid reused
    unknown,        // its open files cannot be seen (another user's process); errno says why
};
PidFileHolder pid_file_holder(const PidFileContents& contents);

// "" when process `pid` holds the pid file read in `contents` open (it is the server that wrote
// it), else one line saying why it is not believed.
std::string check_pid_file_holder(const std::string& path, const PidFileContents& contents);

}  // namespace passenger::watchdog

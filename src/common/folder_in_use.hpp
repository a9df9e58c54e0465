// A folder in /tmp that a running process uses (its app sockets) carries that process's flock for
// as long as it runs. The lock lives as long as the process's descriptor (close-on-exec, so the
// apps it starts do not inherit it): however the process ends, SIGKILL included, the lock goes
// with it. The watchdog's sweep of leftover folders (watchdog/core_leftovers) removes one only
// when it can take the lock itself. The pid in the folder's name is not enough: seen from another
// PID namespace that shares /tmp (a container, `unshare --pid`), a live process's pid does not
// exist, and its folder would look like a dead instance's.
//
// Between creating its folder and locking it a process holds no lock for a few microseconds; a
// sweep that lists the folder in that moment and runs in another PID namespace could take it.
// Accepted: closing that gap would need a second name for every folder.
#pragma once

#include "common/file_descriptor.hpp"

#include <string>

namespace passenger::folder_in_use {

// Opens the folder `path` (not a symlink) and holds the lock while the descriptor is open. An
// invalid descriptor when that failed (errno is set).
FileDescriptor hold(const std::string& path);

// Whether nobody holds the lock of the folder open as `folder_fd` (opened for reading, not
// O_PATH): if so, it is now the caller's, exclusively, until that descriptor closes.
bool take_if_unused(int folder_fd);

}  // namespace passenger::folder_in_use

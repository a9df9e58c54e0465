// Files a core that died without cleaning up leaves behind: its folder of app sockets
// (spawn/socket_dir.hpp), and its spawn helper's (spawn/spawn_helper.hpp), when the helper was
// killed as an orphan before it could remove it. Its processes are handled by orphans.hpp.
#pragma once

#include <sys/types.h>

#include <string>

namespace passenger::watchdog {

// Removes core `core_pid`'s socket folders in `parent`: only real folders (not symlinks) owned
// by `owner`, the user the core ran as. Returns how many were removed.
int remove_core_socket_dirs(pid_t core_pid, uid_t owner, const std::string& parent);

// Removes the socket folders of spawn helper `helper_pid` (reaped: it is dead) in `parent`: only
// real folders owned by root. Any other child's pid matches none.
int remove_spawn_helper_dirs(pid_t helper_pid, const std::string& parent);

}  // namespace passenger::watchdog

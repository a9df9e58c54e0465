// Files a core that died without cleaning up leaves behind: its folder of app sockets
// (spawn/socket_dir.hpp), its spawn helper's (spawn/spawn_helper.hpp), when the helper was
// killed as an orphan before it could remove it, and nginx mode's module socket folder
// (module_socket.hpp). Its processes are handled by orphans.hpp.
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

// Removes the folders of all three kinds in `parent` whose process is gone: what an instance
// killed as a whole (kill -9 of the watchdog, the OOM killer, a service manager's final SIGKILL)
// could not remove, however long ago. Only real folders are taken: the cores' and the module
// sockets' when owned by `core_owner`, the spawn helpers' when owned by root and this process is
// root. A folder whose pid was reused since stays until that process is gone too, and so does
// one whose owner still holds its in-use lock (folder_in_use.hpp: a live instance in another PID
// namespace sharing /tmp, whose pid does not exist here). Returns how many were removed.
int remove_stale_dirs(uid_t core_owner, const std::string& parent);

}  // namespace passenger::watchdog

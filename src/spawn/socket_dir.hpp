// Where a core keeps its app processes' sockets: a private folder per core, named after the core's
// pid, so that the watchdog can remove what a core that died without cleaning up left behind.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

namespace passenger::spawn {

inline constexpr const char* socket_dir_parent = "/tmp";

// What every core's socket folder name starts with, before the core's pid.
inline constexpr std::string_view socket_dir_kind = "passenger-core.";

// The start of the names of core `core_pid`'s socket folders in socket_dir_parent (mkdtemp adds
// a random suffix).
inline std::string socket_dir_prefix(pid_t core_pid) {
    return std::string(socket_dir_kind) + std::to_string(core_pid) + ".";
}

}  // namespace passenger::spawn

// The socket the nginx module reaches the core on: core.sock in a fresh private folder that only
// nginx's worker user (and root) can enter, /tmp/passenger-nginx.<watchdog pid>.XXXXXX (the pid
// tells a later watchdog whether the folder's owner is gone: core_leftovers.hpp). Bound by the
// watchdog before any core exists, so a core restart refuses no request (nginx's connections wait
// in the backlog).
#pragma once

#include "common/file_descriptor.hpp"

#include <string>
#include <string_view>

namespace passenger::watchdog {

// What every module socket folder name starts with, before the watchdog's pid.
inline constexpr std::string_view module_socket_dir_kind = "passenger-nginx.";

struct ModuleSocket {
    FileDescriptor socket;  // bound and listening
    std::string folder;     // e.g. /tmp/passenger-nginx.1234.Ab12Cd
    std::string path;       // folder + "/core.sock"
    std::string error;      // one line when something failed (then nothing was left behind)
    FileDescriptor in_use;  // the folder's in-use lock (common/folder_in_use.hpp)
};

// `worker_user`: who gets the folder and the socket when this process is root (nginx's `user`);
// empty: they stay this process's own (mode 0700 and 0600 either way).
ModuleSocket bind_module_socket(const std::string& worker_user);

// Removes the socket and its folder (never following a symlink).
void remove_module_socket(const ModuleSocket& socket);

}  // namespace passenger::watchdog

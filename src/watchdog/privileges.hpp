// Running as the user --user names. `passenger start` must be started as root for it (to bind a
// port below 1024, say); the watchdog keeps root, since it reads nothing from the network and must
// be able to stop everything and remove its pid file; the core becomes the user right after it
// has opened the log file, before it reads any request, and so every app process runs as that
// user too.
#pragma once

#include <sys/types.h>

#include <string>

namespace passenger::watchdog {

// Why `user` cannot be switched to by this process (not root, or no such user); empty when it
// can. The caller names the option.
std::string check_user_switch(const std::string& user);

// Becomes `user` for good: supplementary groups, group, user; HOME, USER and LOGNAME follow (apps
// and tools such as npm look there). Returns an error message, empty on success.
std::string become_user(const std::string& user);

// The user id the core runs as: --user's (when it exists), else this process's.
uid_t core_user_id(const std::string& user);

}  // namespace passenger::watchdog

// Where Standalone puts its pid and log files when the user does not say, as Passenger does:
// passenger.PORT.pid in APP/tmp/pids/ if that folder exists, else in APP/; passenger.PORT.log in
// APP/log/ if that folder exists, else in APP/. `passenger start` and `passenger stop` must agree,
// so both use these functions.
#pragma once

#include <string>

namespace passenger::config {

// `app_root` is absolute.
std::string default_pid_file(const std::string& app_root, int port);
std::string default_log_file(const std::string& app_root, int port);

// Makes a user-typed path absolute against `cwd` (no symlink resolution: the file may not exist).
std::string absolute_path(const std::string& path, const std::string& cwd);

}  // namespace passenger::config

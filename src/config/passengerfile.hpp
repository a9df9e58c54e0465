// Passengerfile.json: Passenger Standalone's settings file in the app folder. Its keys are the
// long option names of `passenger start` with '_' for '-' ("min_instances": 2, "sticky_sessions":
// true), plus "envvars" (an object of environment variables for the app). The command line wins
// over it (cli/start_options applies the file's settings where the command line is silent).
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace passenger::config {

constexpr const char* passengerfile_name = "Passengerfile.json";

// The settings object of `app_dir`/Passengerfile.json: an empty object when there is no such
// file, or an error line ("Passengerfile.json: ...") when it cannot be read or is not a JSON
// object. Run as root, a file that is not root's may not name the log or pid file (root writes
// them): that is an error too.
std::variant<nlohmann::json, std::string> read_passengerfile(const std::string& app_dir);

}  // namespace passenger::config

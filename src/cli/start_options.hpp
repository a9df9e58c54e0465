// `passenger start` flags → config::Options, without touching the filesystem or starting anything,
// so it can be unit-tested. Filesystem-dependent steps (the app folder, default file paths) follow
// in resolve_start_paths().
#pragma once

#include "config/options.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace passenger::cli {

struct StartCommandLine {
    config::Options options;  // log_file/pid_file as typed (maybe relative or empty)
    std::string app_dir;      // as typed; empty means the current folder
    std::string help;         // usage text when --help was given (then nothing else is set)
    std::string error;        // one line, e.g. "--port: '70000' is not a port number (1-65535)"
    // The words parsed: the arguments, preceded by the settings' words that were applied.
    std::vector<std::string> arguments;
};

// `args` are the words after "start"; `settings` an object of settings (Passengerfile.json's,
// config/passengerfile.hpp) applied where `args` are silent; errors in them are prefixed with
// `source`.
StartCommandLine parse_start_options(const std::vector<std::string>& args,
                                     const nlohmann::json& settings = nlohmann::json::object(),
                                     std::string_view source = "Passengerfile.json");

// Passenger's other settings source: PASSENGER_<OPTION> environment variables (PASSENGER_PORT,
// PASSENGER_STICKY_SESSIONS=true), as settings for parse_start_options. Empty ones, and
// PASSENGER_* variables that name no option (the server's own), are ignored.
nlohmann::json settings_from_environment(char** environment);

// The TLS options together: --ssl needs a certificate and key, the others need --ssl,
// --ssl-redirect needs --ssl-port (which differs from --port). An error line or "".
std::string check_ssl_options(const config::Options& options);

// Turns app_dir into options.app_root (absolute, symlinks resolved; must be a folder) and fills in
// absolute pid/log file paths, defaulting as Passenger does; checks the TLS options together and
// makes their paths absolute. Returns an error line or "".
std::string resolve_start_paths(StartCommandLine& command_line, const std::string& cwd);

}  // namespace passenger::cli

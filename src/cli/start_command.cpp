#include "cli/start_options.hpp"
#include "cli/subcommands.hpp"
#include "config/passengerfile.hpp"
#include "config/standalone_paths.hpp"
#include "spawn/app_detection.hpp"
#include "watchdog/standalone.hpp"

#include <fmt/format.h>
#include <unistd.h>

namespace passenger::cli {
namespace {

// Re-reads the command line together with Passenger's other settings sources, each applied where
// the ones before are silent: PASSENGER_* environment variables, then the app folder's
// Passengerfile.json.
std::string apply_settings_sources(StartCommandLine& command_line) {
    nlohmann::json environment = settings_from_environment(environ);
    if (!environment.empty()) {
        command_line = parse_start_options(command_line.arguments, environment,
                                           "PASSENGER_* environment variables");
        if (!command_line.error.empty()) return command_line.error;
    }
    std::string app_dir = config::absolute_path(
        command_line.app_dir.empty() ? "." : command_line.app_dir, current_directory());
    auto settings = config::read_passengerfile(app_dir);
    if (auto* error = std::get_if<std::string>(&settings)) return *error;
    const nlohmann::json& object = std::get<nlohmann::json>(settings);
    if (!object.empty()) command_line = parse_start_options(command_line.arguments, object);
    return command_line.error;
}

}  // namespace

int run_start_command(const std::vector<std::string>& args) {
    constexpr std::string_view kPrefix = "passenger start";
    StartCommandLine command_line = parse_start_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    std::string error = command_line.error;
    if (error.empty()) error = apply_settings_sources(command_line);
    if (error.empty()) error = resolve_start_paths(command_line, current_directory());
    if (error.empty()) {
        spawn::AppDetection detection = spawn::detect_app(command_line.options);
        error = detection.error;
    }
    if (!error.empty()) {
        fmt::print(stderr, "{}: {}\n", kPrefix, error);
        return 1;
    }
    return watchdog::run_standalone(command_line.options, kPrefix);
}

}  // namespace passenger::cli

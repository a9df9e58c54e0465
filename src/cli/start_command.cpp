#include "cli/start_options.hpp"
#include "cli/subcommands.hpp"
#include "config/passengerfile.hpp"
#include "config/standalone_paths.hpp"
#include "spawn/app_detection.hpp"
#include "watchdog/standalone.hpp"

#include <fmt/format.h>

namespace passenger::cli {
namespace {

// Re-reads the command line together with the app folder's Passengerfile.json, if it has one.
std::string apply_passengerfile(const std::vector<std::string>& args,
                                StartCommandLine& command_line) {
    std::string app_dir = config::absolute_path(
        command_line.app_dir.empty() ? "." : command_line.app_dir, current_directory());
    auto settings = config::read_passengerfile(app_dir);
    if (auto* error = std::get_if<std::string>(&settings)) return *error;
    const nlohmann::json& object = std::get<nlohmann::json>(settings);
    if (!object.empty()) command_line = parse_start_options(args, object);
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
    if (error.empty()) error = apply_passengerfile(args, command_line);
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

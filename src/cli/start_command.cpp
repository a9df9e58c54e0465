#include "cli/start_options.hpp"
#include "cli/subcommands.hpp"
#include "spawn/app_detection.hpp"
#include "watchdog/standalone.hpp"

#include <fmt/format.h>

namespace passenger::cli {

int run_start_command(const std::vector<std::string>& args) {
    constexpr std::string_view kPrefix = "passenger start";
    StartCommandLine command_line = parse_start_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    std::string error = command_line.error;
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

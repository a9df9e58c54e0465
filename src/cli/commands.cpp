#include "cli/commands.hpp"

#include "cli/subcommands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <string_view>

namespace passenger::cli {
namespace {

constexpr std::string_view kUsage =
    "Usage: passenger <command> [options]\n"
    "\n"
    "Commands:\n"
    "  start [APP_DIR]  Serve the app in APP_DIR (default: the current folder)\n"
    "  stop [APP_DIR]   Stop a server started with --daemonize\n"
    "\n"
    "Options:\n"
    "  -h, --help       Show this help\n"
    "  -v, --version    Show the version\n"
    "\n"
    "Run 'passenger <command> --help' for the options of a command.\n";

}  // namespace

std::string current_directory() {
    char buffer[PATH_MAX];
    return ::getcwd(buffer, sizeof buffer) != nullptr ? buffer : "";
}

int dispatch(int argc, char** argv) {
    // bin/passenger-status & co are symlinks to this binary.
    std::string_view program = argc > 0 ? argv[0] : "passenger";
    program = program.substr(program.rfind('/') + 1);
    if (program == "passenger-status" || program == "passenger-memory-stats" ||
        program == "passenger-config") {
        std::vector<std::string> tool_args(argv + 1, argv + argc);
        if (program == "passenger-status") return run_status_command(tool_args);
        if (program == "passenger-memory-stats") return run_memory_stats_command(tool_args);
        return run_config_command(tool_args);
    }
    if (argc < 2) {
        fmt::print(stderr, "{}", kUsage);
        return 1;
    }
    std::string_view command = argv[1];
    std::vector<std::string> args(argv + 2, argv + argc);
    if (command == "--version" || command == "-v" || command == "version") {
        fmt::print("Passenger {}\n", PASSENGER_VERSION);
        return 0;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        fmt::print("{}", kUsage);
        return 0;
    }
    if (command == "start") return run_start_command(args);
    if (command == "stop") return run_stop_command(args);
    if (command == "core") return run_core_command();
    if (command == "nginx-watchdog") return run_nginx_watchdog_command(args, "nginx");
    if (command == "apache2-watchdog") return run_nginx_watchdog_command(args, "apache2");
    if (command == "spawn-helper") return run_spawn_helper_command(args);
    if (command.starts_with('-'))
        fmt::print(stderr, "passenger: unknown option {} (see passenger --help)\n", command);
    else
        fmt::print(stderr, "passenger: unknown command '{}' (see passenger --help)\n", command);
    return 1;
}

}  // namespace passenger::cli

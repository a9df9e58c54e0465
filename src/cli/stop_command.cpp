#include "cli/stop_options.hpp"
#include "cli/subcommands.hpp"
#include "watchdog/remote_stop.hpp"

#include <fmt/format.h>
#include <signal.h>

namespace passenger::cli {
namespace {

// Longer than the server's own worst case (graceful shutdown + app stop timeout + kill margin
// with the defaults), so a healthy server always finishes first.
constexpr std::chrono::seconds kStopTimeout{60};
// With --drain the server's own deadline (its drain timeout plus the above) bounds the stop;
// this only keeps a hung server from holding the command forever.
constexpr std::chrono::hours kDrainStopTimeout{24};

}  // namespace

int run_stop_command(const std::vector<std::string>& args) {
    StopCommandLine command_line = parse_stop_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    std::string error = command_line.error;
    std::string pid_file;
    if (error.empty()) pid_file = resolve_stop_pid_file(command_line, current_directory(), error);
    if (error.empty()) {
        error = command_line.drain ? watchdog::stop_server(pid_file, kDrainStopTimeout, SIGTERM)
                                   : watchdog::stop_server(pid_file, kStopTimeout, SIGINT);
    }
    if (!error.empty()) {
        fmt::print(stderr, "passenger stop: {}\n", error);
        return 1;
    }
    return 0;
}

}  // namespace passenger::cli

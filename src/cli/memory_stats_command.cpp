// passenger-memory-stats: reads /proc only, so it answers even when the core hangs.
#include "cli/inspection_options.hpp"
#include "cli/instance_selection.hpp"
#include "cli/memory_stats.hpp"
#include "cli/status_format.hpp"
#include "cli/subcommands.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <ctime>

namespace passenger::cli {

int run_memory_stats_command(const std::vector<std::string>& args) {
    constexpr const char* program = "passenger-memory-stats";
    MemoryStatsCommandLine command_line = parse_memory_stats_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    if (!command_line.error.empty()) {
        fmt::print(stderr, "{}: {}\n", program, command_line.error);
        return 1;
    }
    if (command_line.version) {
        fmt::print("Passenger {}\n", PASSENGER_VERSION);
        return 0;
    }
    std::string registry = admin::registry_dir(command_line.registry_dir);
    std::vector<admin::Instance> instances = admin::list_instances(registry);
    char self[PATH_MAX];
    ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
    std::string self_exe = length > 0 ? std::string(self, static_cast<size_t>(length)) : "";

    std::vector<MemorySection> sections =
        memory_sections(read_process_table(), instances, self_exe, ::getpid());
    bool running = std::any_of(sections.begin(), sections.end(), [](const MemorySection& s) {
        return s.title == "Passenger processes" && !s.processes.empty();
    });
    if (!running) {
        fmt::print(stderr, "{}: {}\n", program, not_running_message(registry));
        return 1;
    }
    fmt::print("Version: {}\nDate   : {}\n{}", PASSENGER_VERSION,
               format_local_time(std::time(nullptr)), format_memory_sections(sections));
    return 0;
}

}  // namespace passenger::cli

// The `passenger` subcommands. Each returns the process exit code; `args` are the words after the
// subcommand's name. Errors are one line on stderr, "passenger <command>: ...".
#pragma once

#include <string>
#include <vector>

namespace passenger::cli {

int run_start_command(const std::vector<std::string>& args);
int run_stop_command(const std::vector<std::string>& args);
// Hidden: what the watchdog execs. Reads its configuration from the environment
// (common/core_environment.hpp), not from arguments.
int run_core_command();
// Hidden: what the nginx module execs once per nginx master and the Apache module once per
// Apache instance (watchdog/nginx_watchdog.hpp); `server` is "nginx" or "apache2".
int run_nginx_watchdog_command(const std::vector<std::string>& args, const std::string& server);
// Hidden: what a core that runs apps as their owners starts while still root
// (spawn/spawn_helper.hpp): `spawn-helper CORE_USER LOG_FILE LOG_LEVEL root-allowed|no-root`,
// its socket at fd 3.
int run_spawn_helper_command(const std::vector<std::string>& args);

// The inspection tools, reached through symlinks named after them (argv[0]); `args` are the
// words after the program name.
int run_status_command(const std::vector<std::string>& args);        // passenger-status
int run_memory_stats_command(const std::vector<std::string>& args);  // passenger-memory-stats
int run_config_command(const std::vector<std::string>& args);        // passenger-config

// The current folder, or "" if it cannot be determined.
std::string current_directory();

}  // namespace passenger::cli

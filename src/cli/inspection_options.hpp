// Command lines of the inspection tools: passenger-status, passenger-memory-stats and
// passenger-config. Parsing only (no I/O), so tests cover every shape of input.
#pragma once

#include <string>
#include <vector>

namespace passenger::cli {

struct StatusCommandLine {
    std::string instance;       // empty: the only one running
    std::string show = "pool";  // pool, requests, json, metrics
    std::string registry_dir;   // --instance-registry-dir; empty: the default
    bool version = false;
    std::string help;
    std::string error;
};

// `args` are the words after the program name.
StatusCommandLine parse_status_options(const std::vector<std::string>& args);

struct MemoryStatsCommandLine {
    std::string registry_dir;
    bool version = false;
    std::string help;
    std::string error;
};

MemoryStatsCommandLine parse_memory_stats_options(const std::vector<std::string>& args);

struct ConfigCommandLine {
    std::string command;   // restart-app, list-instances, reopen-logs, reload-ssl, about; empty
                           // with --version/--help
    std::string about;     // about's argument: root or nginx-module
    std::string app_root;  // restart-app's argument, as typed
    std::string instance;  // --instance NAME
    std::string registry_dir;
    bool json = false;  // list-instances --json
    bool version = false;
    std::string help;
    std::string error;
};

ConfigCommandLine parse_config_options(const std::vector<std::string>& args);

}  // namespace passenger::cli

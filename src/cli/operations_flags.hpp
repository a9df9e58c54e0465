// `passenger start` flags for running behind load balancers and under init systems and
// monitoring (health check, drain, trusted proxies, metrics, log formats), kept apart from
// start_options like the front end's.
#pragma once

#include "config/options.hpp"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace passenger::cli {

struct RawOperationsFlags {
    std::string health_check_path, drain_timeout, metrics_address, log_format, access_log,
        access_log_format;
    std::vector<std::string> trusted_proxies;
    std::vector<std::string> apps;  // --app HOST=DIR
};

void declare_operations_flags(CLI::App& app, RawOperationsFlags& raw);
// Validates the given flags into `options.operations` (after the other flags: the metrics
// address is checked against --port); returns an error line or "".
std::string apply_operations_flags(const CLI::App& app, const RawOperationsFlags& raw,
                                   config::Options& options);
// Makes --access-log (unless it is "-") and the --app folders absolute, checking that those are
// folders; returns an error line or "".
std::string resolve_operations_paths(config::OperationsOptions& options, const std::string& cwd);

// HOST:PORT or [IPv6]:PORT into its parts; returns the reason it is not one, or "".
std::string split_host_port(const std::string& text, std::string& host, int& port);

}  // namespace passenger::cli

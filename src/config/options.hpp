// The one Options model. Filled from command-line flags (cli/), handed from the watchdog to the
// core as JSON, and read by every subsystem. Defaults are Passenger's.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <map>
#include <string>
#include <vector>

namespace passenger::config {

struct Options {
    // Where and how the server listens and runs.
    std::string app_root;  // absolute path
    std::string address = "0.0.0.0";
    int port = 3000;
    std::string environment = "development";
    std::string log_file;  // absolute path; chosen by cli when not given
    std::string pid_file;  // absolute path; chosen by cli when not given
    bool daemonize = false;
    int log_level = 2;  // 0 error .. 4 debug (common/log.hpp Level)

    // The application.
    std::string app_type;      // "node" (only type so far); empty = detect
    std::string startup_file;  // relative to app_root; empty = detect (app.js)
    std::string nodejs = "node";
    std::map<std::string, std::string> envvars;  // --envvar NAME=VALUE

    // The pool.
    int min_instances = 1;
    int max_pool_size = 6;
    int start_timeout_seconds = 90;
    int max_request_queue_size = 100;

    // Shutdown: how long requests in flight may take, and how long apps get after SIGTERM.
    int graceful_shutdown_seconds = 10;
    int app_stop_timeout_seconds = 5;

    bool production() const { return environment == "production"; }
};

void to_json(nlohmann::json& json, const Options& options);
void from_json(const nlohmann::json& json, Options& options);

}  // namespace passenger::config

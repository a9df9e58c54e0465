// The one Options model. Filled from command-line flags (cli/), handed from the watchdog to the
// core as JSON, and read by every subsystem. Defaults are Passenger's.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace passenger::config {

// The front end (server/): limits, timeouts and buffering between clients and the app, with
// nginx's defaults. Sizes in bytes; a timeout of 0 seconds disables it.
struct FrontEndOptions {
    uint64_t client_max_body_size = 0;              // 0: unlimited; larger bodies get 413
    uint64_t client_max_header_size = 32 * 1024;    // the whole request head: 431
    uint64_t client_max_header_line_size = 8192;    // one header field, name and value: 431
    uint64_t client_max_header_count = 100;         // header fields: 431
    uint64_t client_max_uri_size = 8192;            // the request target: 414
    uint64_t client_body_buffer_size = 128 * 1024;  // request body in memory before a temp file
    uint64_t response_buffer_size = 128 * 1024;     // response in memory before a temp file
    std::string data_buffer_dir;                    // temp files; empty: $TMPDIR or /tmp
    int client_header_timeout_seconds = 60;         // reading a request head: 408
    int client_body_timeout_seconds = 60;           // between two reads of a request body: 408
    int keepalive_timeout_seconds = 75;             // an idle keep-alive connection is closed
    int send_timeout_seconds = 60;                  // between two writes to a client: closed
};

// Running behind load balancers, under init systems and monitoring (server/README.md
// "Operations"). Everything here is off by default.
struct OperationsOptions {
    std::string health_check_path;  // --health-check-path: answered by the core, never the app
    // --drain-timeout: on SIGTERM, the health check fails at once while requests are served this
    // long; then the listener closes. 0: stop at once (as before).
    int drain_timeout_seconds = 0;
    std::vector<std::string> trusted_proxies;    // --trusted-proxy CIDRs (checked at parse time)
    std::string metrics_address;                 // --metrics-address HOST:PORT; empty: off
    std::string log_format = "text";             // --log-format: text or json
    std::string access_log;                      // --access-log FILE (absolute) or "-"; empty: off
    std::string access_log_format = "combined";  // --access-log-format: combined or json
    // --app HOST=DIR: more apps in a Standalone instance, chosen by the request's Host (lower
    // case, no port); absolute folders. Other hosts get the main app (app_root).
    std::map<std::string, std::string> host_apps;
};

struct Options {
    // Where and how the server listens and runs.
    std::string app_root;  // absolute path
    std::string address = "0.0.0.0";
    int port = 3000;
    std::string environment = "development";
    std::string log_file;  // absolute path; chosen by cli when not given
    std::string pid_file;  // absolute path; chosen by cli when not given
    bool daemonize = false;
    std::string user;   // --user: the core and the apps run as this user; empty: as the caller
    int log_level = 2;  // 0 error .. 4 debug (common/log.hpp Level)
    // Client connections open at once; more wait in the listen backlog (like nginx's
    // worker_connections, which is 512 per worker process; the core is one process).
    int max_connections = 4096;
    // Event loops (threads) serving connections; 0: one per CPU the core may run on
    // (sched_getaffinity), like nginx's worker_processes auto.
    int core_threads = 0;
    // Where the instance registers for passenger-status & co; absolute. Empty: the default
    // (admin::registry_dir: $PASSENGER_INSTANCE_REGISTRY_DIR, $TMPDIR or /tmp).
    std::string instance_registry_dir;
    // "nginx": the core serves the nginx module on a Unix socket, many apps, each request bringing
    // its app's settings (src/integrations/README.md); empty: Standalone, the one app above.
    std::string integration_mode;

    // The application.
    std::string app_type;      // node, rack, wsgi, meteor or generic; empty = detect
    std::string startup_file;  // relative to app_root; empty = detect (app.js)
    std::string nodejs = "node";
    std::string rackup;               // -R/--rackup: a Rack app's file, relative to app_root
    std::string ruby = "ruby";        // --ruby
    std::string python = "python3";   // --python
    std::string meteor_app_settings;  // --meteor-app-settings: absolute path
    std::string app_start_command;    // --app-start-command: a generic app, run by /bin/sh -c
    std::map<std::string, std::string> envvars;  // --envvar NAME=VALUE
    // nginx's passenger_base_uri: the app serves the URIs under this path ("/sub"); empty: all.
    // It reaches the app as PASSENGER_BASE_URI (Rack and WSGI: SCRIPT_NAME).
    std::string base_uri;

    // Whose account an app runs as (nginx mode with a root master: spawn/app_account.hpp).
    bool user_switching = true;           // passenger_user_switching
    std::string app_user;                 // passenger_user; empty: the startup file's owner
    std::string app_group;                // passenger_group; empty: the user's primary group
    std::string default_user = "nobody";  // passenger_default_user
    std::string default_group;            // passenger_default_group; empty: its primary group

    // The pool.
    int min_instances = 1;
    int max_pool_size = 6;
    int start_timeout_seconds = 90;
    int max_request_queue_size = 100;
    int pool_idle_time_seconds = 300;        // 0: never stop idle processes
    int max_requests = 0;                    // 0: unlimited; else replace a process after N
    int max_concurrent_requests = -1;        // per process; -1: by app type (Node 0 = unlimited)
    int max_request_queue_time_seconds = 0;  // 0: unlimited; else 504 for requests queued longer
    int max_request_time_seconds = 0;        // 0: unlimited; else 504 and replace the process
    bool rolling_restarts = false;
    bool resist_deployment_errors = false;
    int memory_limit_mb = 0;  // 0: none; else replace a process whose private memory exceeds it
    int stat_throttle_rate_seconds = 10;  // restart.txt polling when inotify is unavailable
    // Growing apps whose processes take unlimited concurrency (Node): a process is saturated when
    // its CPU over the last second reaches this share of a core, or it has this many requests in
    // flight; when all are, one more process is spawned (0 disables a criterion).
    int saturation_cpu_percent = 90;
    int saturation_sessions = 32;

    // Realtime apps (proxy/): with sticky sessions, a cookie routes every request of a browser to
    // the process that answered its first one (SockJS and long polling need that across
    // processes). Tunnels (WebSockets) of a process that drains or stops are closed, unless
    // abort_websockets_on_process_shutdown is false.
    bool sticky_sessions = false;
    std::string sticky_sessions_cookie_name = "_passenger_route";
    std::string sticky_sessions_cookie_attributes = "SameSite=Lax; Path=/";
    bool abort_websockets_on_process_shutdown = true;

    FrontEndOptions front_end;
    OperationsOptions operations;

    // TLS (Passenger Standalone's names). With ssl, --port serves HTTPS only, unless ssl_port is
    // set: then HTTPS is there and --port stays plain HTTP (which ssl_redirect sends to HTTPS).
    bool ssl = false;
    std::string ssl_certificate;      // absolute path; PEM, the chain may follow the certificate
    std::string ssl_certificate_key;  // absolute path; PEM, unencrypted
    int ssl_port = 0;                 // 0: none
    std::string ssl_protocols = "TLSv1.2 TLSv1.3";
    bool ssl_redirect = false;

    // Shutdown: how long requests in flight may take, and how long apps get after SIGTERM.
    int graceful_shutdown_seconds = 10;
    int app_stop_timeout_seconds = 5;

    // The page for an app that could not start shows its output and the reason: 1 yes, 0 no,
    // -1 by the environment (in development only: Passenger's rule). nginx:
    // passenger_friendly_error_pages.
    int friendly_error_pages = -1;

    bool production() const { return environment == "production"; }
    bool shows_friendly_error_pages() const {
        return friendly_error_pages < 0 ? environment == "development" : friendly_error_pages == 1;
    }
};

void to_json(nlohmann::json& json, const FrontEndOptions& options);
void from_json(const nlohmann::json& json, FrontEndOptions& options);
void to_json(nlohmann::json& json, const OperationsOptions& options);
void from_json(const nlohmann::json& json, OperationsOptions& options);
void to_json(nlohmann::json& json, const Options& options);
void from_json(const nlohmann::json& json, Options& options);

}  // namespace passenger::config

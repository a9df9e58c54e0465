#include "cli/start_options.hpp"

#include "cli/command_line_errors.hpp"
#include "cli/front_end_flags.hpp"
#include "config/option_values.hpp"
#include "config/passengerfile.hpp"
#include "config/standalone_paths.hpp"
#include "watchdog/privileges.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <optional>

namespace passenger::cli {
namespace {

constexpr int kLargest = INT_MAX;

// Values are taken as text and validated here rather than by CLI11, so every bad value gets the
// same one-line message shape naming the option.
struct RawStartFlags {
    std::string port, address, environment, log_file, pid_file, nodejs, startup_file, app_type;
    std::string rackup, ruby, python, meteor_app_settings, app_start_command;
    std::string instance_registry_dir, user;
    std::string min_instances, max_pool_size, start_timeout, max_request_queue_size, log_level;
    std::string pool_idle_time, max_requests, max_concurrent_requests, max_request_queue_time,
        max_request_time, memory_limit, stat_throttle_rate, saturation_cpu, saturation_sessions;
    bool rolling_restarts = false;
    bool resist_deployment_errors = false;
    bool sticky_sessions = false;
    bool no_abort_websockets = false;
    std::string sticky_sessions_cookie_name, sticky_sessions_cookie_attributes;
    std::vector<std::string> envvars;
    bool daemonize = false;
    RawFrontEndFlags front_end;
};

void declare_flags(CLI::App& app, RawStartFlags& raw, std::string& app_dir) {
    app.add_option("APP_DIR", app_dir, "The application folder (default: the current folder)")
        ->type_name("");
    app.add_option("-p,--port", raw.port, "Port to listen on (default: 3000)")->type_name("PORT");
    app.add_option("-a,--address", raw.address, "Address to listen on (default: 0.0.0.0)")
        ->type_name("HOST");
    app.add_option("-e,--environment", raw.environment,
                   "Framework environment: development or production (default: development)")
        ->type_name("ENV");
    app.add_option("--log-file", raw.log_file,
                   "Log file (default: passenger.PORT.log in the app's log/ or the app folder)")
        ->type_name("FILE");
    app.add_option(
           "--pid-file", raw.pid_file,
           "PID file (default: passenger.PORT.pid in the app's tmp/pids/ or the app folder)")
        ->type_name("FILE");
    app.add_flag("-d,--daemonize", raw.daemonize, "Run in the background");
    app.add_option("--user", raw.user,
                   "Run the app (and the server's core) as this user; needs root, e.g. to "
                   "bind port 80 first")
        ->type_name("USERNAME");
    app.add_option("--instance-registry-dir", raw.instance_registry_dir,
                   "Where to register for passenger-status & co (default: "
                   "$PASSENGER_INSTANCE_REGISTRY_DIR, $TMPDIR or /tmp)")
        ->type_name("DIR");
    app.add_option("--nodejs", raw.nodejs, "The Node.js command (default: node)")
        ->type_name("PATH");
    app.add_option("--app-type", raw.app_type,
                   "The kind of app: node, rack, wsgi, meteor or generic (default: detected)")
        ->type_name("NAME");
    app.add_option("--startup-file", raw.startup_file,
                   "The app's entry file, relative to APP_DIR (default: app.js, config.ru or "
                   "passenger_wsgi.py)")
        ->type_name("FILE");
    app.add_option("-R,--rackup", raw.rackup,
                   "A Rack app's rackup file, relative to APP_DIR (default: config.ru)")
        ->type_name("FILE");
    app.add_option("--ruby", raw.ruby, "The Ruby command for Rack apps (default: ruby)")
        ->type_name("PATH");
    app.add_option("--python", raw.python, "The Python command for WSGI apps (default: python3)")
        ->type_name("PATH");
    app.add_option("--meteor-app-settings", raw.meteor_app_settings,
                   "Settings file for a Meteor app directory (meteor run --settings FILE)")
        ->type_name("FILE");
    app.add_option("--app-start-command", raw.app_start_command,
                   "Start the app with this shell command; it must listen on 127.0.0.1:$PORT")
        ->type_name("COMMAND");
    app.add_option("--envvar", raw.envvars, "Set an environment variable for the app (repeatable)")
        ->type_name("NAME=VALUE")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--min-instances", raw.min_instances,
                   "Processes to keep running per app (default: 1)")
        ->type_name("N");
    app.add_option("--max-pool-size", raw.max_pool_size, "Most app processes at once (default: 6)")
        ->type_name("N");
    app.add_option("--start-timeout", raw.start_timeout,
                   "Seconds an app process may take to start (default: 90)")
        ->type_name("SECONDS");
    app.add_option("--max-request-queue-size", raw.max_request_queue_size,
                   "Requests that may wait for a process before 503 (default: 100, 0: no limit)")
        ->type_name("N");
    app.add_option("--pool-idle-time", raw.pool_idle_time,
                   "Seconds before an idle process beyond --min-instances stops (default: 300, "
                   "0: never)")
        ->type_name("SECONDS");
    app.add_option("--max-requests", raw.max_requests,
                   "Replace a process after it handled N requests (default: 0, unlimited)")
        ->type_name("N");
    app.add_option("--force-max-concurrent-requests-per-process", raw.max_concurrent_requests,
                   "Requests one process takes at once (default: unlimited for Node.js, 1 for "
                   "Ruby and Python; 0: unlimited)")
        ->type_name("N");
    app.add_option("--max-request-queue-time", raw.max_request_queue_time,
                   "A request queued longer gets 504 (default: 0, unlimited)")
        ->type_name("SECONDS");
    app.add_option("--max-request-time", raw.max_request_time,
                   "A request running longer is aborted with 504 and its process replaced "
                   "(default: 0, unlimited)")
        ->type_name("SECONDS");
    app.add_flag("--rolling-restarts", raw.rolling_restarts,
                 "Restart processes one by one, new before old, so no request waits");
    app.add_flag("--resist-deployment-errors", raw.resist_deployment_errors,
                 "Keep the old processes when the new version fails to start");
    app.add_option("--memory-limit", raw.memory_limit,
                   "Replace a process whose private memory exceeds this (default: 0, none)")
        ->type_name("MB");
    app.add_option("--stat-throttle-rate", raw.stat_throttle_rate,
                   "Seconds between restart.txt checks where inotify is unavailable (default: 10)")
        ->type_name("SECONDS");
    app.add_option("--saturation-cpu", raw.saturation_cpu,
                   "Grow a Node.js app when all its processes use this % of a core (default: 90, "
                   "0: off)")
        ->type_name("PERCENT");
    app.add_option("--saturation-sessions", raw.saturation_sessions,
                   "Grow a Node.js app when all its processes have this many requests in flight "
                   "(default: 32, 0: off)")
        ->type_name("N");
    app.add_flag("--sticky-sessions", raw.sticky_sessions,
                 "Route all requests of a browser to one process (a cookie names it); needed by "
                 "SockJS and long polling with several processes");
    app.add_option("--sticky-sessions-cookie-name", raw.sticky_sessions_cookie_name,
                   "The sticky sessions cookie (default: _passenger_route)")
        ->type_name("NAME");
    app.add_option("--sticky-sessions-cookie-attributes", raw.sticky_sessions_cookie_attributes,
                   "Attributes of that cookie (default: 'SameSite=Lax; Path=/')")
        ->type_name("'ATTRS'");
    app.add_flag("--no-abort-websockets-on-process-shutdown", raw.no_abort_websockets,
                 "Keep WebSockets of a process that restarts or stops open until they end");
    declare_front_end_flags(app, raw.front_end);
    app.add_option("--log-level", raw.log_level, "0 (errors) .. 4 (debug) (default: 2)")
        ->type_name("LEVEL");
}

// Applies one numeric flag if it was given; returns an error line or "".
std::string apply_number(const CLI::App& app, const std::string& name, const std::string& text,
                         int min, int max, std::string_view what, int& target) {
    if (app.count(name) == 0) return {};
    auto parsed = config::parse_int_in_range(text, min, max, what);
    if (auto* reason = std::get_if<std::string>(&parsed))
        return fmt::format("{}: {}", name, *reason);
    target = std::get<int>(parsed);
    return {};
}

std::string apply_flags(const CLI::App& app, const RawStartFlags& raw, config::Options& options) {
    if (app.count("--port") > 0) {
        auto port = config::parse_port(raw.port);
        if (auto* reason = std::get_if<std::string>(&port)) return "--port: " + *reason;
        options.port = std::get<int>(port);
    }
    auto non_empty = [&](const char* name, const std::string& text, std::string& target) {
        if (app.count(name) == 0) return std::string();
        if (text.empty()) return fmt::format("{}: must not be empty", name);
        target = text;
        return std::string();
    };
    for (auto error :
         {non_empty("--address", raw.address, options.address),
          non_empty("--environment", raw.environment, options.environment),
          non_empty("--log-file", raw.log_file, options.log_file),
          non_empty("--pid-file", raw.pid_file, options.pid_file),
          non_empty("--nodejs", raw.nodejs, options.nodejs),
          non_empty("--app-type", raw.app_type, options.app_type),
          non_empty("--startup-file", raw.startup_file, options.startup_file),
          non_empty("--rackup", raw.rackup, options.rackup),
          non_empty("--ruby", raw.ruby, options.ruby),
          non_empty("--python", raw.python, options.python),
          non_empty("--meteor-app-settings", raw.meteor_app_settings, options.meteor_app_settings),
          non_empty("--app-start-command", raw.app_start_command, options.app_start_command),
          non_empty("--instance-registry-dir", raw.instance_registry_dir,
                    options.instance_registry_dir),
          non_empty("--user", raw.user, options.user)})
        if (!error.empty()) return error;
    if (!options.user.empty()) {
        if (auto error = watchdog::check_user_switch(options.user); !error.empty()) return error;
    }
    for (auto error :
         {apply_number(app, "--min-instances", raw.min_instances, 0, kLargest,
                       "a whole number >= 0", options.min_instances),
          apply_number(app, "--max-pool-size", raw.max_pool_size, 1, kLargest,
                       "a whole number >= 1", options.max_pool_size),
          apply_number(app, "--start-timeout", raw.start_timeout, 1, kLargest,
                       "a number of seconds >= 1", options.start_timeout_seconds),
          apply_number(app, "--max-request-queue-size", raw.max_request_queue_size, 0, kLargest,
                       "a whole number >= 0", options.max_request_queue_size),
          apply_number(app, "--log-level", raw.log_level, 0, 4, "a log level (0-4)",
                       options.log_level),
          apply_number(app, "--pool-idle-time", raw.pool_idle_time, 0, kLargest,
                       "a number of seconds >= 0", options.pool_idle_time_seconds),
          apply_number(app, "--max-requests", raw.max_requests, 0, kLargest, "a whole number >= 0",
                       options.max_requests),
          apply_number(app, "--force-max-concurrent-requests-per-process",
                       raw.max_concurrent_requests, 0, kLargest, "a whole number >= 0",
                       options.max_concurrent_requests),
          apply_number(app, "--max-request-queue-time", raw.max_request_queue_time, 0, kLargest,
                       "a number of seconds >= 0", options.max_request_queue_time_seconds),
          apply_number(app, "--max-request-time", raw.max_request_time, 0, kLargest,
                       "a number of seconds >= 0", options.max_request_time_seconds),
          apply_number(app, "--memory-limit", raw.memory_limit, 0, kLargest,
                       "a number of megabytes >= 0", options.memory_limit_mb),
          apply_number(app, "--stat-throttle-rate", raw.stat_throttle_rate, 0, kLargest,
                       "a number of seconds >= 0", options.stat_throttle_rate_seconds),
          apply_number(app, "--saturation-cpu", raw.saturation_cpu, 0, 100, "a percentage (0-100)",
                       options.saturation_cpu_percent),
          apply_number(app, "--saturation-sessions", raw.saturation_sessions, 0, kLargest,
                       "a whole number >= 0", options.saturation_sessions)})
        if (!error.empty()) return error;
    if (app.count("--sticky-sessions-cookie-name") > 0) {
        const std::string& name = raw.sticky_sessions_cookie_name;
        if (auto error = config::cookie_name_error(name); !error.empty())
            return "--sticky-sessions-cookie-name: " + error;
        options.sticky_sessions_cookie_name = name;
    }
    if (app.count("--sticky-sessions-cookie-attributes") > 0) {
        const std::string& attributes = raw.sticky_sessions_cookie_attributes;
        if (auto error = config::cookie_attributes_error(attributes); !error.empty())
            return "--sticky-sessions-cookie-attributes: " + error;
        options.sticky_sessions_cookie_attributes = attributes;
    }
    if (auto error = apply_front_end_flags(app, raw.front_end, options.front_end); !error.empty())
        return error;
    for (const std::string& text : raw.envvars) {
        auto envvar = config::parse_envvar(text);
        if (auto* reason = std::get_if<std::string>(&envvar)) return "--envvar: " + *reason;
        auto& [name, value] = std::get<std::pair<std::string, std::string>>(envvar);
        options.envvars[name] = value;
    }
    options.daemonize = raw.daemonize;
    options.rolling_restarts = raw.rolling_restarts;
    options.resist_deployment_errors = raw.resist_deployment_errors;
    options.sticky_sessions = raw.sticky_sessions;
    options.abort_websockets_on_process_shutdown = !raw.no_abort_websockets;
    return {};
}

}  // namespace

namespace {

// The option a setting's key names ("min_instances": --min-instances); nullptr for none. The
// app's environment variables come only as Passengerfile.json's "envvars" object.
const CLI::Option* option_for_setting(const CLI::App& app, const std::string& key) {
    std::string name = "--" + key;
    std::replace(name.begin(), name.end(), '_', '-');
    if (name == "--help" || name == "--envvar") return nullptr;
    return app.get_option_no_throw(name);
}

// Passengerfile.json's settings as command-line words, leaving out the options the command line
// (already parsed into `app`) gives: the command line wins. Returns an error line or "".
std::string settings_as_words(const CLI::App& app, const nlohmann::json& settings,
                              std::vector<std::string>& words) {
    for (const auto& [key, value] : settings.items()) {
        if (key == "envvars") {
            if (!value.is_object()) return "'envvars' must be an object of NAME: VALUE";
            for (const auto& [name, text] : value.items()) {
                if (!text.is_string()) return fmt::format("envvars: '{}' must be a string", name);
                words.insert(words.end(), {"--envvar", name + "=" + text.get<std::string>()});
            }
            continue;
        }
        const CLI::Option* option = option_for_setting(app, key);
        if (option == nullptr) return fmt::format("unknown setting '{}'", key);
        if (option->count() > 0) continue;
        const std::string name = "--" + option->get_lnames().front();
        if (option->get_expected_max() == 0) {  // a flag
            if (!value.is_boolean()) return fmt::format("'{}' must be true or false", key);
            if (value.get<bool>()) words.push_back(name);
        } else if (value.is_string()) {
            words.insert(words.end(), {name, value.get<std::string>()});
        } else if (value.is_number_integer()) {
            words.insert(words.end(), {name, value.dump()});
        } else {
            return fmt::format("'{}' must be a string or a whole number", key);
        }
    }
    return {};
}

}  // namespace

StartCommandLine parse_start_options(const std::vector<std::string>& args,
                                     const nlohmann::json& settings, std::string_view source) {
    StartCommandLine result;
    result.arguments = args;
    CLI::App app("Starts Passenger Standalone serving the app in APP_DIR.", "passenger start");
    app.allow_extras();  // leftovers are reported below as one line
    RawStartFlags raw;
    declare_flags(app, raw, result.app_dir);
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        result.help = app.help();
        return result;
    } catch (const CLI::ParseError& error) {
        result.error = describe_parse_error(error);
        return result;
    }
    result.error = describe_leftover_arguments(app.remaining());
    if (result.error.empty()) result.error = apply_flags(app, raw, result.options);
    if (!result.error.empty() || settings.empty()) return result;

    // The settings' words go first, so that the arguments' words follow and win.
    std::vector<std::string> words;
    if (std::string error = settings_as_words(app, settings, words); !error.empty()) {
        result.error = fmt::format("{}: {}", source, error);
        return result;
    }
    words.insert(words.end(), args.begin(), args.end());
    StartCommandLine merged = parse_start_options(words);
    // The arguments alone were fine: an error comes from the settings.
    if (!merged.error.empty()) merged.error = fmt::format("{}: {}", source, merged.error);
    return merged;
}

nlohmann::json settings_from_environment(char** environment) {
    CLI::App app;
    RawStartFlags raw;
    std::string app_dir;
    declare_flags(app, raw, app_dir);
    nlohmann::json settings = nlohmann::json::object();
    constexpr std::string_view prefix = "PASSENGER_";
    for (char** entry = environment; *entry != nullptr; ++entry) {
        std::string_view text(*entry);
        size_t equals = text.find('=');
        if (!text.starts_with(prefix) || equals == std::string_view::npos) continue;
        std::string key(text.substr(prefix.size(), equals - prefix.size()));
        std::string value(text.substr(equals + 1));
        std::transform(key.begin(), key.end(), key.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        const CLI::Option* option = option_for_setting(app, key);
        if (value.empty() || option == nullptr) continue;
        if (option->get_expected_max() == 0)  // a flag: true/false, 1/0, yes/no
            settings[key] = value == "true" || value == "1" || value == "yes";
        else
            settings[key] = value;
    }
    return settings;
}

std::string resolve_start_paths(StartCommandLine& command_line, const std::string& cwd) {
    config::Options& options = command_line.options;
    std::string typed = command_line.app_dir.empty() ? cwd : command_line.app_dir;
    std::string absolute = config::absolute_path(typed, cwd);
    char resolved[PATH_MAX];
    if (::realpath(absolute.c_str(), resolved) == nullptr)
        return fmt::format("app folder {}: {}", typed, std::strerror(errno));
    struct stat info {};
    if (::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode))
        return fmt::format("app folder {} is not a folder", typed);
    options.app_root = resolved;
    options.pid_file = options.pid_file.empty()
                           ? config::default_pid_file(options.app_root, options.port)
                           : config::absolute_path(options.pid_file, cwd);
    options.log_file = options.log_file.empty()
                           ? config::default_log_file(options.app_root, options.port)
                           : config::absolute_path(options.log_file, cwd);
    if (!options.meteor_app_settings.empty())
        options.meteor_app_settings = config::absolute_path(options.meteor_app_settings, cwd);
    if (!options.instance_registry_dir.empty())
        options.instance_registry_dir = config::absolute_path(options.instance_registry_dir, cwd);
    return resolve_front_end_paths(options.front_end, cwd);
}

}  // namespace passenger::cli

#include "cli/start_options.hpp"

#include "cli/command_line_errors.hpp"
#include "cli/front_end_flags.hpp"
#include "cli/operations_flags.hpp"
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

// Checks one option's text and stores it in `options`; returns the reason it is wrong, or "".
using Apply = std::string (*)(const std::string& text, config::Options& options);

// One `passenger start` option. Values are taken as text and checked here rather than by CLI11,
// so that every bad value gets the same one-line message shape naming the option.
struct OptionSpec {
    const char* flags;       // CLI11's names, e.g. "-p,--port"
    const char* value_name;  // nullptr: a switch (no value)
    const char* help;
    Apply apply;  // called when the option is given
};

template <std::string config::Options::*field>
std::string set_text(const std::string& text, config::Options& options) {
    if (text.empty()) return "must not be empty";
    options.*field = text;
    return {};
}

// Whole numbers in [min, max]; `what` says what is expected, e.g. "a whole number >= 0".
template <int config::Options::*field, int min, int max>
std::string set_number(const std::string& text, config::Options& options, std::string_view what) {
    auto parsed = config::parse_int_in_range(text, min, max, what);
    if (auto* reason = std::get_if<std::string>(&parsed)) return *reason;
    options.*field = std::get<int>(parsed);
    return {};
}

template <bool config::Options::*field, bool value = true>
std::string set_switch(const std::string&, config::Options& options) {
    options.*field = value;
    return {};
}

#define PASSENGER_NUMBER(field, min, max, what)                                    \
    [](const std::string& text, config::Options& options) {                        \
        return set_number<&config::Options::field, min, max>(text, options, what); \
    }

template <int config::Options::*field>
std::string set_port(const std::string& text, config::Options& options) {
    auto port = config::parse_port(text);
    if (auto* reason = std::get_if<std::string>(&port)) return *reason;
    options.*field = std::get<int>(port);
    return {};
}

std::string set_ssl_protocols(const std::string& text, config::Options& options) {
    auto protocols = config::parse_ssl_protocols(text);
    if (auto* reason = std::get_if<std::string>(&protocols)) return *reason;
    options.ssl_protocols = std::get<config::SslProtocols>(protocols).text();
    return {};
}

std::string set_user(const std::string& text, config::Options& options) {
    if (text.empty()) return "must not be empty";
    if (std::string reason = watchdog::check_user_switch(text); !reason.empty()) return reason;
    options.user = text;
    return {};
}

std::string set_cookie_name(const std::string& text, config::Options& options) {
    if (auto error = config::cookie_name_error(text); !error.empty()) return error;
    options.sticky_sessions_cookie_name = text;
    return {};
}

std::string set_cookie_attributes(const std::string& text, config::Options& options) {
    if (auto error = config::cookie_attributes_error(text); !error.empty()) return error;
    options.sticky_sessions_cookie_attributes = text;
    return {};
}

using O = config::Options;

// In the order `passenger start --help` lists them (the front end's follow the sticky sessions'
// and --envvar follows --app-start-command; both are declared apart).
const std::vector<OptionSpec>& option_specs() {
    static const std::vector<OptionSpec> specs = {
        {"-p,--port", "PORT", "Port to listen on (default: 3000)", set_port<&O::port>},
        {"-a,--address", "HOST", "Address to listen on (default: 0.0.0.0)", set_text<&O::address>},
        {"--ssl", nullptr,
         "Serve HTTPS (with --ssl-certificate and --ssl-certificate-key): on --port, or on "
         "--ssl-port besides plain HTTP on --port",
         set_switch<&O::ssl>},
        {"--ssl-certificate", "PATH",
         "The TLS certificate in PEM; intermediate certificates may follow it in the file",
         set_text<&O::ssl_certificate>},
        {"--ssl-certificate-key", "PATH", "The certificate's private key in PEM (unencrypted)",
         set_text<&O::ssl_certificate_key>},
        {"--ssl-port", "PORT", "Serve HTTPS on this port, and plain HTTP on --port",
         set_port<&O::ssl_port>},
        {"--ssl-protocols", "'LIST'", "TLS versions to offer (default: 'TLSv1.2 TLSv1.3')",
         set_ssl_protocols},
        {"--ssl-redirect", nullptr,
         "Answer plain HTTP requests on --port with a redirect (308) to HTTPS on --ssl-port",
         set_switch<&O::ssl_redirect>},
        {"-e,--environment", "ENV",
         "Framework environment: development or production (default: development)",
         set_text<&O::environment>},
        {"--log-file", "FILE",
         "Log file (default: passenger.PORT.log in the app's log/ or the app folder)",
         set_text<&O::log_file>},
        {"--pid-file", "FILE",
         "PID file (default: passenger.PORT.pid in the app's tmp/pids/ or the app folder)",
         set_text<&O::pid_file>},
        {"--max-connections", "N",
         "Most client connections at once; more wait in the listen backlog until one closes "
         "(default: 4096)",
         PASSENGER_NUMBER(max_connections, 1, kLargest, "a whole number >= 1")},
        {"--core-threads", "N",
         "Event loops serving connections, each on its own thread (default: one per CPU the "
         "server may run on)",
         PASSENGER_NUMBER(core_threads, 1, 1024, "a whole number from 1 to 1024")},
        {"-d,--daemonize", nullptr, "Run in the background", set_switch<&O::daemonize>},
        {"--user", "USERNAME",
         "Run the app (and the server's core) as this user; needs root, e.g. to bind port 80 "
         "first",
         set_user},
        {"--instance-registry-dir", "DIR",
         "Where to register for passenger-status & co (default: "
         "$PASSENGER_INSTANCE_REGISTRY_DIR, $TMPDIR or /tmp)",
         set_text<&O::instance_registry_dir>},
        {"--nodejs", "PATH", "The Node.js command (default: node)", set_text<&O::nodejs>},
        {"--app-type", "NAME",
         "The kind of app: node, rack, wsgi, meteor or generic (default: detected)",
         set_text<&O::app_type>},
        {"--startup-file", "FILE",
         "The app's entry file, relative to APP_DIR (default: app.js, config.ru or "
         "passenger_wsgi.py)",
         set_text<&O::startup_file>},
        {"-R,--rackup", "FILE",
         "A Rack app's rackup file, relative to APP_DIR (default: config.ru)",
         set_text<&O::rackup>},
        {"--ruby", "PATH", "The Ruby command for Rack apps (default: ruby)", set_text<&O::ruby>},
        {"--python", "PATH", "The Python command for WSGI apps (default: python3)",
         set_text<&O::python>},
        {"--meteor-app-settings", "FILE",
         "Settings file for a Meteor app directory (meteor run --settings FILE)",
         set_text<&O::meteor_app_settings>},
        {"--app-start-command", "COMMAND",
         "Start the app with this shell command; it must listen on 127.0.0.1:$PORT",
         set_text<&O::app_start_command>},
        {"--min-instances", "N", "Processes to keep running per app (default: 1)",
         PASSENGER_NUMBER(min_instances, 0, kLargest, "a whole number >= 0")},
        {"--max-pool-size", "N", "Most app processes at once (default: 6)",
         PASSENGER_NUMBER(max_pool_size, 1, kLargest, "a whole number >= 1")},
        {"--start-timeout", "SECONDS", "Seconds an app process may take to start (default: 90)",
         PASSENGER_NUMBER(start_timeout_seconds, 1, kLargest, "a number of seconds >= 1")},
        {"--max-request-queue-size", "N",
         "Requests that may wait for a process before 503 (default: 100, 0: no limit)",
         PASSENGER_NUMBER(max_request_queue_size, 0, kLargest, "a whole number >= 0")},
        {"--pool-idle-time", "SECONDS",
         "Seconds before an idle process beyond --min-instances stops (default: 300, 0: never)",
         PASSENGER_NUMBER(pool_idle_time_seconds, 0, kLargest, "a number of seconds >= 0")},
        {"--max-requests", "N",
         "Replace a process after it handled N requests (default: 0, unlimited)",
         PASSENGER_NUMBER(max_requests, 0, kLargest, "a whole number >= 0")},
        {"--force-max-concurrent-requests-per-process", "N",
         "Requests one process takes at once (default: unlimited for Node.js, 1 for Ruby and "
         "Python; 0: unlimited)",
         PASSENGER_NUMBER(max_concurrent_requests, 0, kLargest, "a whole number >= 0")},
        {"--max-request-queue-time", "SECONDS",
         "A request queued longer gets 504 (default: 0, unlimited)",
         PASSENGER_NUMBER(max_request_queue_time_seconds, 0, kLargest, "a number of seconds >= 0")},
        {"--max-request-time", "SECONDS",
         "A request running longer is aborted with 504 and its process replaced (default: 0, "
         "unlimited)",
         PASSENGER_NUMBER(max_request_time_seconds, 0, kLargest, "a number of seconds >= 0")},
        {"--rolling-restarts", nullptr,
         "Restart processes one by one, new before old, so no request waits",
         set_switch<&O::rolling_restarts>},
        {"--resist-deployment-errors", nullptr,
         "Keep the old processes when the new version fails to start",
         set_switch<&O::resist_deployment_errors>},
        {"--memory-limit", "MB",
         "Replace a process whose private memory exceeds this (default: 0, none)",
         PASSENGER_NUMBER(memory_limit_mb, 0, kLargest, "a number of megabytes >= 0")},
        {"--stat-throttle-rate", "SECONDS",
         "Seconds between restart.txt checks where inotify is unavailable (default: 10)",
         PASSENGER_NUMBER(stat_throttle_rate_seconds, 0, kLargest, "a number of seconds >= 0")},
        {"--saturation-cpu", "PERCENT",
         "Grow a Node.js app when all its processes use this % of a core (default: 90, 0: off)",
         PASSENGER_NUMBER(saturation_cpu_percent, 0, 100, "a percentage (0-100)")},
        {"--saturation-sessions", "N",
         "Grow a Node.js app when all its processes have this many requests in flight "
         "(default: 32, 0: off)",
         PASSENGER_NUMBER(saturation_sessions, 0, kLargest, "a whole number >= 0")},
        {"--sticky-sessions", nullptr,
         "Route all requests of a browser to one process (a cookie names it); needed by SockJS "
         "and long polling with several processes",
         set_switch<&O::sticky_sessions>},
        {"--sticky-sessions-cookie-name", "NAME",
         "The sticky sessions cookie (default: _passenger_route)", set_cookie_name},
        {"--sticky-sessions-cookie-attributes", "'ATTRS'",
         "Attributes of that cookie (default: 'SameSite=Lax; Path=/')", set_cookie_attributes},
        {"--no-abort-websockets-on-process-shutdown", nullptr,
         "Keep WebSockets of a process that restarts or stops open until they end",
         set_switch<&O::abort_websockets_on_process_shutdown, false>},
        {"--log-level", "LEVEL", "0 (errors) .. 4 (debug) (default: 2)",
         PASSENGER_NUMBER(log_level, 0, 4, "a log level (0-4)")},
    };
    return specs;
}

#undef PASSENGER_NUMBER

// What CLI11 parsed into, before the values are checked: one entry per option spec (the
// switches' in `on`), plus the options declared apart.
struct RawStartFlags {
    struct Value {
        std::string text;
        bool on = false;
        CLI::Option* option = nullptr;
    };
    std::vector<Value> values = std::vector<Value>(option_specs().size());
    std::vector<std::string> envvars;
    RawFrontEndFlags front_end;
    RawOperationsFlags operations;
};

void declare_flags(CLI::App& app, RawStartFlags& raw, std::string& app_dir) {
    app.add_option("APP_DIR", app_dir, "The application folder (default: the current folder)")
        ->type_name("");
    const std::vector<OptionSpec>& specs = option_specs();
    for (size_t i = 0; i < specs.size(); ++i) {
        const OptionSpec& spec = specs[i];
        RawStartFlags::Value& value = raw.values[i];
        value.option =
            spec.value_name == nullptr
                ? app.add_flag(spec.flags, value.on, spec.help)
                : app.add_option(spec.flags, value.text, spec.help)->type_name(spec.value_name);
        if (std::string_view(spec.flags) == "--app-start-command") {
            app.add_option("--envvar", raw.envvars,
                           "Set an environment variable for the app (repeatable)")
                ->type_name("NAME=VALUE")
                ->allow_extra_args(false)
                ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
        }
        if (std::string_view(spec.flags) == "--no-abort-websockets-on-process-shutdown") {
            declare_front_end_flags(app, raw.front_end);
            declare_operations_flags(app, raw.operations);
        }
    }
}

std::string apply_flags(const CLI::App& app, const RawStartFlags& raw, config::Options& options) {
    const std::vector<OptionSpec>& specs = option_specs();
    for (size_t i = 0; i < specs.size(); ++i) {
        const RawStartFlags::Value& value = raw.values[i];
        if (value.option->count() == 0) continue;
        if (std::string reason = specs[i].apply(value.text, options); !reason.empty())
            return fmt::format("--{}: {}", value.option->get_lnames().front(), reason);
    }
    if (auto error = apply_front_end_flags(app, raw.front_end, options.front_end); !error.empty())
        return error;
    if (auto error = apply_operations_flags(app, raw.operations, options); !error.empty())
        return error;
    for (const std::string& text : raw.envvars) {
        auto envvar = config::parse_envvar(text);
        if (auto* reason = std::get_if<std::string>(&envvar)) return "--envvar: " + *reason;
        auto& [name, value] = std::get<std::pair<std::string, std::string>>(envvar);
        options.envvars[name] = value;
    }
    return {};
}

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
        if (key == "apps") {  // {"HOST": "DIR"}: --app HOST=DIR each
            if (!value.is_object()) return "'apps' must be an object of HOST: DIR";
            if (app.count("--app") > 0) continue;  // the command line's apps win
            for (const auto& [host, dir] : value.items()) {
                if (!dir.is_string()) return fmt::format("apps: '{}' must be a string", host);
                words.insert(words.end(), {"--app", host + "=" + dir.get<std::string>()});
            }
            continue;
        }
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
        } else if (value.is_array() && option->get_multi_option_policy() ==
                                           CLI::MultiOptionPolicy::TakeAll) {  // repeatable
            for (const auto& item : value) {
                if (!item.is_string()) return fmt::format("'{}' must be a list of strings", key);
                words.insert(words.end(), {name, item.get<std::string>()});
            }
        } else {
            return fmt::format("'{}' must be a string or a whole number", key);
        }
    }
    return {};
}

}  // namespace

// Checked once every source is merged (the flags alone may lack what Passengerfile.json gives).
std::string check_ssl_options(const config::Options& options) {
    if (!options.ssl) {
        for (auto [given, name] : {std::pair{!options.ssl_certificate.empty(), "--ssl-certificate"},
                                   {!options.ssl_certificate_key.empty(), "--ssl-certificate-key"},
                                   {options.ssl_port != 0, "--ssl-port"},
                                   {options.ssl_redirect, "--ssl-redirect"}})
            if (given) return fmt::format("{}: needs --ssl", name);
        return {};
    }
    if (options.ssl_certificate.empty()) return "--ssl: needs --ssl-certificate";
    if (options.ssl_certificate_key.empty()) return "--ssl: needs --ssl-certificate-key";
    if (options.ssl_port != 0 && options.ssl_port == options.port)
        return fmt::format("--ssl-port: must differ from --port ({})", options.port);
    if (options.ssl_redirect && options.ssl_port == 0)
        return "--ssl-redirect: needs --ssl-port (without it, --port serves HTTPS only)";
    return {};
}

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
    // "-": standard output.
    options.log_file = options.log_file.empty()
                           ? config::default_log_file(options.app_root, options.port)
                       : options.log_file == "-" ? options.log_file
                                                 : config::absolute_path(options.log_file, cwd);
    if (!options.meteor_app_settings.empty())
        options.meteor_app_settings = config::absolute_path(options.meteor_app_settings, cwd);
    if (!options.instance_registry_dir.empty())
        options.instance_registry_dir = config::absolute_path(options.instance_registry_dir, cwd);
    if (auto error = resolve_operations_paths(options.operations, cwd); !error.empty())
        return error;
    if (std::string error = check_ssl_options(options); !error.empty()) return error;
    if (options.ssl) {
        options.ssl_certificate = config::absolute_path(options.ssl_certificate, cwd);
        options.ssl_certificate_key = config::absolute_path(options.ssl_certificate_key, cwd);
    }
    return resolve_front_end_paths(options.front_end, cwd);
}

}  // namespace passenger::cli

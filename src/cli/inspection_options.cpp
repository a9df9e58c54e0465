#include "cli/inspection_options.hpp"

#include "cli/command_line_errors.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <string_view>
#include <utility>

namespace passenger::cli {
namespace {

constexpr std::array<std::string_view, 4> kShowValues = {"pool", "requests", "json", "metrics"};

constexpr std::string_view kConfigUsage =
    "Usage: passenger-config <command> [options]\n"
    "\n"
    "Commands:\n"
    "  restart-app [APP_ROOT]  Restart the app in APP_ROOT (or the only app being served);\n"
    "                          rolling when the server runs with --rolling-restarts\n"
    "  list-instances          List the running Passenger instances\n"
    "  reopen-logs             Reopen the log files and access logs (after logrotate moved\n"
    "                          them); the same as SIGUSR1 to each server\n"
    "  reload-ssl              Read the certificate and key of each server started with --ssl\n"
    "                          again (new connections get them; a pair that does not load is\n"
    "                          refused, the current one kept); like SIGHUP, but says the outcome\n"
    "  about root              The value for passenger_root (nginx), PassengerRoot (Apache)\n"
    "  about nginx-module      The nginx module to load (load_module PATH;)\n"
    "  about apache2-module    The Apache module to load (LoadModule passenger_module PATH)\n"
    "\n"
    "Options:\n"
    "  --instance NAME               The instance to use when several are running\n"
    "  --instance-registry-dir DIR   Where instances register (default: $TMPDIR or /tmp,\n"
    "                                or $PASSENGER_INSTANCE_REGISTRY_DIR)\n"
    "  --json                        list-instances: print JSON\n"
    "  -h, --help                    Show this help\n"
    "  -v, --version                 Show the version\n";

// Parses `args` with `app`; fills `help` or `error` and returns false when the caller is done.
bool run_parser(CLI::App& app, const std::vector<std::string>& args, std::string& help,
                std::string& error) {
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());  // CLI11 pops from the back
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        help = app.help();
        return false;
    } catch (const CLI::ParseError& parse_error) {
        error = describe_parse_error(parse_error);
        return false;
    }
    error = describe_leftover_arguments(app.remaining());
    return error.empty();
}

void add_registry_option(CLI::App& app, std::string& target) {
    app.add_option("--instance-registry-dir", target,
                   "Where instances register (default: $PASSENGER_INSTANCE_REGISTRY_DIR, "
                   "$TMPDIR or /tmp)")
        ->type_name("DIR");
}

std::string check_not_empty(const CLI::App& app, const char* name, const std::string& value) {
    if (app.count(name) > 0 && value.empty()) return fmt::format("{}: must not be empty", name);
    return {};
}

}  // namespace

StatusCommandLine parse_status_options(const std::vector<std::string>& args) {
    StatusCommandLine result;
    CLI::App app("Shows what a running Passenger instance is doing.", "passenger-status");
    app.allow_extras();
    app.add_option("INSTANCE", result.instance,
                   "The instance to inspect (needed when several are running)")
        ->type_name("");
    app.add_option("--show", result.show,
                   "pool (default): processes and queues; requests: requests in flight (JSON); "
                   "json: the pool as JSON; metrics: Prometheus text")
        ->type_name("WHAT");
    add_registry_option(app, result.registry_dir);
    app.add_flag("-v,--version", result.version, "Show the version");
    if (!run_parser(app, args, result.help, result.error)) return result;
    if (std::find(kShowValues.begin(), kShowValues.end(), result.show) == kShowValues.end()) {
        result.error =
            fmt::format("--show: '{}' is not one of pool, requests, json, metrics", result.show);
        return result;
    }
    result.error = check_not_empty(app, "--instance-registry-dir", result.registry_dir);
    return result;
}

MemoryStatsCommandLine parse_memory_stats_options(const std::vector<std::string>& args) {
    MemoryStatsCommandLine result;
    CLI::App app(
        "Shows the memory use of the web server, Passenger and the app processes, from /proc "
        "alone (it works even when the server hangs).",
        "passenger-memory-stats");
    app.allow_extras();
    add_registry_option(app, result.registry_dir);
    app.add_flag("-v,--version", result.version, "Show the version");
    if (!run_parser(app, args, result.help, result.error)) return result;
    result.error = check_not_empty(app, "--instance-registry-dir", result.registry_dir);
    return result;
}

ConfigCommandLine parse_config_options(const std::vector<std::string>& args) {
    ConfigCommandLine result;
    if (args.empty()) {
        result.error = "a command is required (see passenger-config --help)";
        return result;
    }
    std::string_view first = args.front();
    if (first == "-h" || first == "--help" || first == "help") {
        result.help = kConfigUsage;
        return result;
    }
    if (first == "-v" || first == "--version" || first == "version") {
        result.version = true;
        return result;
    }
    if (first == "about") {
        result.command = "about";
        if (args.size() != 2 ||
            (args[1] != "root" && args[1] != "nginx-module" && args[1] != "apache2-module"))
            result.error = "expects one of: root, nginx-module, apache2-module";
        else
            result.about = args[1];
        return result;
    }
    if (first != "restart-app" && first != "list-instances" && first != "reopen-logs" &&
        first != "reload-ssl") {
        result.error =
            first.starts_with('-')
                ? fmt::format("unknown option {} (see passenger-config --help)", first)
                : fmt::format("unknown command '{}' (see passenger-config --help)", first);
        return result;
    }
    result.command = first;
    std::vector<std::string> rest(args.begin() + 1, args.end());
    CLI::App app(first == "restart-app"
                     ? "Restarts an app: rolling when the server runs with --rolling-restarts."
                 : first == "reopen-logs"
                     ? "Makes every running instance (or the one named) reopen its log files."
                 : first == "reload-ssl"
                     ? "Makes every running instance started with --ssl (or the one named) read "
                       "its certificate and key again."
                     : "Lists the running Passenger instances.",
                 fmt::format("passenger-config {}", first));
    app.allow_extras();
    if (first == "restart-app") {
        app.add_option("APP_ROOT", result.app_root,
                       "The app's folder, or a folder above it (default: the only app)")
            ->type_name("");
        app.add_option("--instance", result.instance, "The instance, when several are running")
            ->type_name("NAME");
    } else if (first == "reopen-logs" || first == "reload-ssl") {
        app.add_option("--instance", result.instance, "Only this instance")->type_name("NAME");
    } else {
        app.add_flag("--json", result.json, "Print JSON");
    }
    add_registry_option(app, result.registry_dir);
    if (!run_parser(app, rest, result.help, result.error)) return result;
    for (auto [name, value] : {std::pair{"--instance-registry-dir", &result.registry_dir},
                               std::pair{"--instance", &result.instance}}) {
        if (app.get_option_no_throw(name) == nullptr) continue;
        result.error = check_not_empty(app, name, *value);
        if (!result.error.empty()) return result;
    }
    if (first == "restart-app" && app.count("APP_ROOT") > 0 && result.app_root.empty())
        result.error = "APP_ROOT: must not be empty";
    return result;
}

}  // namespace passenger::cli

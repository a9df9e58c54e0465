#include "cli/stop_options.hpp"

#include "cli/command_line_errors.hpp"
#include "config/option_values.hpp"
#include "config/passengerfile.hpp"
#include "config/standalone_paths.hpp"

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace passenger::cli {

StopCommandLine parse_stop_options(const std::vector<std::string>& args) {
    StopCommandLine result;
    CLI::App app(
        "Stops a Passenger Standalone server started with --daemonize, and waits until "
        "it and its app processes are gone.",
        "passenger stop");
    app.allow_extras();
    std::string port_text;
    app.add_option("APP_DIR", result.app_dir, "The application folder (default: current folder)")
        ->type_name("");
    app.add_option("-p,--port", port_text, "The port the server was started with (default: 3000)")
        ->type_name("PORT");
    app.add_option("--pid-file", result.pid_file, "The server's pid file, if it was given at start")
        ->type_name("FILE");
    app.add_flag("--drain", result.drain,
                 "Let the server drain first (fail its health check, serve for its "
                 "--drain-timeout), as SIGTERM does");
    try {
        std::vector<std::string> reversed(args.rbegin(), args.rend());
        app.parse(reversed);
    } catch (const CLI::CallForHelp&) {
        result.help = app.help();
        return result;
    } catch (const CLI::ParseError& error) {
        result.error = describe_parse_error(error);
        return result;
    }
    result.error = describe_leftover_arguments(app.remaining());
    if (!result.error.empty()) return result;
    if (app.count("--port") > 0) {
        auto port = config::parse_port(port_text);
        if (auto* reason = std::get_if<std::string>(&port))
            result.error = "--port: " + *reason;
        else
            result.port = std::get<int>(port);
        result.port_given = true;
    }
    if (result.error.empty() && app.count("--pid-file") > 0 && result.pid_file.empty())
        result.error = "--pid-file: must not be empty";
    return result;
}

std::string resolve_stop_pid_file(const StopCommandLine& command_line, const std::string& cwd,
                                  std::string& error) {
    if (!command_line.pid_file.empty()) return config::absolute_path(command_line.pid_file, cwd);
    std::string typed = command_line.app_dir.empty() ? cwd : command_line.app_dir;
    char resolved[PATH_MAX];
    if (::realpath(config::absolute_path(typed, cwd).c_str(), resolved) == nullptr) {
        error = fmt::format("app folder {}: {}", typed, std::strerror(errno));
        return {};
    }
    int port = command_line.port;
    if (!command_line.port_given) {
        auto settings = config::read_passengerfile(resolved);
        if (auto* reason = std::get_if<std::string>(&settings)) {
            error = *reason;
            return {};
        }
        const nlohmann::json& object = std::get<nlohmann::json>(settings);
        if (auto pid_file = object.find("pid_file");
            pid_file != object.end() && pid_file->is_string())
            return config::absolute_path(pid_file->get<std::string>(), cwd);
        if (auto value = object.find("port"); value != object.end()) {
            auto parsed =
                config::parse_port(value->is_string() ? value->get<std::string>() : value->dump());
            if (auto* reason = std::get_if<std::string>(&parsed)) {
                error = fmt::format("{}: port: {}", config::passengerfile_name, *reason);
                return {};
            }
            port = std::get<int>(parsed);
        }
    }
    return config::default_pid_file(resolved, port);
}

}  // namespace passenger::cli

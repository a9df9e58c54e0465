#include "watchdog/banner.hpp"

#include "config/standalone_paths.hpp"
#include "watchdog/listener.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

namespace passenger::watchdog {
namespace {

// Quotes a path for a shell only when it needs it, so the common case stays readable.
std::string shell_word(const std::string& word) {
    bool plain = !word.empty() && word.find_first_not_of(
                                      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                      "OPQRSTUVWXYZ0123456789/._-+:@%,=") == std::string::npos;
    if (plain) return word;
    std::string quoted = "'";
    for (char c : word) {
        if (c == '\'')
            quoted += "'\\''";
        else
            quoted += c;
    }
    quoted += '\'';
    return quoted;
}

}  // namespace

std::string format_banner(const config::Options& options, const std::string& stop_command) {
    std::string banner =
        "=============== Passenger Standalone web server started ===============\n";
    banner += fmt::format("PID file: {}\n", options.pid_file);
    banner += fmt::format("Log file: {}\n", options.log_file);
    banner += fmt::format("Environment: {}\n", options.environment);
    if (!options.ssl || options.ssl_port != 0)
        banner += fmt::format("Accessible via: http://{}/\n",
                              format_host_port(options.address, options.port));
    if (options.ssl)
        banner +=
            fmt::format("Accessible via: https://{}/\n",
                        format_host_port(options.address,
                                         options.ssl_port != 0 ? options.ssl_port : options.port));
    banner += "\n";
    if (options.daemonize) {
        banner += "Serving in the background as a daemon.\n";
        banner += fmt::format("You can stop it with: {}\n", stop_command);
    } else {
        banner += "You can stop Passenger Standalone by pressing Ctrl-C.\n";
    }
    banner += "===============================================================================\n";
    return banner;
}

std::string stop_command_for(const config::Options& options, const std::string& cwd) {
    std::string command = "passenger stop";
    bool default_pid_file =
        options.pid_file == config::default_pid_file(options.app_root, options.port);
    // `passenger stop` looks in the current folder unless told otherwise.
    if (default_pid_file && options.app_root != cwd)
        command += fmt::format(" {}", shell_word(options.app_root));
    command += fmt::format(" --port {}", options.port);
    if (!default_pid_file) command += fmt::format(" --pid-file {}", shell_word(options.pid_file));
    return command;
}

}  // namespace passenger::watchdog

#include "cli/module_app_options.hpp"
#include "cli/subcommands.hpp"
#include "common/core_environment.hpp"
#include "common/log.hpp"
#include "config/options.hpp"
#include "server/core.hpp"
#include "spawn/spawn_helper_client.hpp"
#include "watchdog/privileges.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>

namespace passenger::cli {
namespace {

std::optional<int> read_number_variable(const char* name) {
    const char* text = std::getenv(name);
    if (text == nullptr) return std::nullopt;
    std::string_view view(text);
    int value = 0;
    auto [end, error] = std::from_chars(view.data(), view.data() + view.size(), value);
    if (error != std::errc() || end != view.data() + view.size() || value < 0) return std::nullopt;
    return value;
}

// App processes are forked from the core: they must inherit neither the listening sockets nor
// the readiness pipe nor the TLS channel, nor the watchdog's private variables.
void keep_from_app_processes(int listen_fd, const config::Options& options) {
    ::fcntl(listen_fd, F_SETFD, FD_CLOEXEC);
    if (options.ssl) {
        ::fcntl(kCoreTlsChannelFd, F_SETFD, FD_CLOEXEC);
        if (options.ssl_port != 0) ::fcntl(kCoreSslListenFd, F_SETFD, FD_CLOEXEC);
    }
    if (std::optional<int> ready_fd = read_number_variable(kReadyFdVariable))
        ::fcntl(*ready_fd, F_SETFD, FD_CLOEXEC);
    ::unsetenv(kCoreOptionsVariable);
    ::unsetenv(kListenFdVariable);
    ::unsetenv(kWatchdogPidVariable);
    // kReadyFdVariable stays: server::run_core reads it.
}

}  // namespace

int run_core_command() {
    log::set_role("core");
    const char* options_json = std::getenv(kCoreOptionsVariable);
    std::optional<int> listen_fd = read_number_variable(kListenFdVariable);
    if (options_json == nullptr || !listen_fd) {
        fmt::print(stderr,
                   "passenger core: started by `passenger start`, not by hand ({} and {} "
                   "must be set)\n",
                   kCoreOptionsVariable, kListenFdVariable);
        return 1;
    }
    config::Options options;
    try {
        options = nlohmann::json::parse(options_json).get<config::Options>();
    } catch (const std::exception& error) {
        fmt::print(stderr, "passenger core: bad {}: {}\n", kCoreOptionsVariable, error.what());
        return 1;
    }
    log::set_level(static_cast<log::Level>(options.log_level));
    log::set_json(options.operations.log_format == "json");
    if (std::string error = log::open(options.log_file, !options.daemonize); !error.empty()) {
        fmt::print(stderr, "passenger core: {}\n", error);
        return 1;
    }
    // nginx or Apache mode with a root master: apps run as their owners, started by a helper that
    // keeps root and does nothing else (spawn/spawn_helper.hpp); the core itself parses requests,
    // so it becomes the web server's worker user like without the helper. Whether a directive names
    // root (the module says so), so that the helper may run an app as root; the apps must not see
    // the variable.
    const bool allow_root_apps = std::getenv(spawn::kAllowRootAppsVariable) != nullptr;
    ::unsetenv(spawn::kAllowRootAppsVariable);
    if (!options.user.empty() && !options.integration_mode.empty() && ::geteuid() == 0) {
        spawn::StartedHelper helper = spawn::start_spawn_helper(options.user, options.log_file,
                                                                options.log_level, allow_root_apps);
        if (!helper.error.empty()) {
            log::error("{}", helper.error);
            return 1;
        }
        log::notice("Spawn helper {} starts the apps as their owners", helper.pid);
        spawn::keep_started_helper(std::move(helper));
    }
    // The log file is open (it may be root's); now the core becomes --user. Before the
    // parent-death signal is set: changing credentials clears it.
    if (!options.user.empty()) {
        if (std::string error = watchdog::become_user(options.user); !error.empty()) {
            log::error("{}", error);
            return 1;
        }
    }
    // If the watchdog dies, even by SIGKILL, the core shuts down gracefully and takes the apps
    // with it. The parent check closes the race where the watchdog died before prctl ran.
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    std::optional<int> watchdog_pid = read_number_variable(kWatchdogPidVariable);
    if (watchdog_pid && ::getppid() != *watchdog_pid) {
        log::error("The watchdog (process {}) is already gone; exiting", *watchdog_pid);
        return 1;
    }
    keep_from_app_processes(*listen_fd, options);
    if (options.integration_mode.empty()) return server::run_core(options, *listen_fd);
    return server::run_core(options, *listen_fd, module_app_options);
}

}  // namespace passenger::cli

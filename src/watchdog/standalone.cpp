#include "watchdog/standalone.hpp"

#include "common/log.hpp"
#include "common/log_file.hpp"
#include "common/sd_notify.hpp"
#include "tls/credentials.hpp"
#include "watchdog/banner.hpp"
#include "watchdog/core_supervisor.hpp"
#include "watchdog/daemon.hpp"
#include "watchdog/listener.hpp"
#include "watchdog/pid_file.hpp"
#include "watchdog/signal_receiver.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <climits>
#include <cstdio>

namespace passenger::watchdog {
namespace {

// Refuses to run over a live server's pid file; a stale or garbled one is simply replaced.
std::string check_pid_file_is_free(const std::string& pid_file) {
    PidFileContents contents = read_pid_file(pid_file);
    if (contents.state == PidFileContents::State::unreadable) return contents.error;
    // A pid whose process does not hold the file open is not the server that wrote it.
    if (contents.state == PidFileContents::State::valid && contents.pid != ::getpid() &&
        process_is_alive(contents.pid) && pid_file_holder(contents) != PidFileHolder::other_process)
        return fmt::format("already running as process {} (pid file {})", contents.pid, pid_file);
    return {};
}

std::string working_directory() {
    char buffer[PATH_MAX];
    return ::getcwd(buffer, sizeof buffer) ? buffer : "";
}

// Where a failure before the banner goes: the terminal, or the waiting original process.
class StartupReporter {
  public:
    explicit StartupReporter(std::string_view error_prefix) : error_prefix_(error_prefix) {}
    void adopt_daemon_pipe(FileDescriptor status_writer) {
        status_writer_ = std::move(status_writer);
    }

    int fail(const std::string& error) {
        log::error("{}", error);
        return report(error);
    }
    // For errors the log already has.
    int report(const std::string& error) {
        if (status_writer_.valid())
            report_daemon_failure(status_writer_, error);
        else
            fmt::print(stderr, "{}: {}\n", error_prefix_, error);
        return 1;
    }
    void ready() {
        if (status_writer_.valid()) report_daemon_ready(status_writer_);
    }

  private:
    std::string_view error_prefix_;
    FileDescriptor status_writer_;
};

}  // namespace

int run_standalone(const config::Options& options, std::string_view error_prefix) {
    log::set_role("watchdog");
    take_notify_socket_from_environment();  // systemd's Type=notify: ours, not the apps'

    log::set_level(static_cast<log::Level>(options.log_level));
    log::set_json(options.operations.log_format == "json");
    auto fail_early = [&](const std::string& error) {
        fmt::print(stderr, "{}: {}\n", error_prefix, error);
        return 1;
    };
    if (std::string error = check_pid_file_is_free(options.pid_file); !error.empty())
        return fail_early(error);
    // Read before any port is bound, and as the caller (root with --user): the core, which may
    // run as the app's user, gets the text over a channel, never the files.
    tls::Credentials tls_credentials;
    if (options.ssl) {
        auto loaded = tls::load_credentials(options.ssl_certificate, options.ssl_certificate_key);
        if (auto* error = std::get_if<std::string>(&loaded)) return fail_early(*error);
        tls_credentials = std::move(std::get<tls::Credentials>(loaded));
    }
    Listener listener = bind_listener(options.address, options.port);
    if (!listener.error.empty()) return fail_early(listener.error);
    Listener ssl_listener;
    if (options.ssl && options.ssl_port != 0) {
        ssl_listener = bind_listener(options.address, options.ssl_port);
        if (!ssl_listener.error.empty()) return fail_early(ssl_listener.error);
    }
    if (std::string error = log::open(options.log_file, !options.daemonize); !error.empty())
        return fail_early(error);
    std::string banner = format_banner(options, stop_command_for(options, working_directory()));

    StartupReporter reporter(error_prefix);
    if (options.daemonize) {
        Daemonization daemonization = daemonize();
        if (!daemonization.in_daemon) {
            if (!daemonization.failure.empty()) return fail_early(daemonization.failure);
            fmt::print("{}", banner);
            return 0;
        }
        reporter.adopt_daemon_pipe(std::move(daemonization.status_writer));
    }

    SignalReceiver signals;
    if (!signals.error().empty()) return reporter.fail(signals.error());
    // Kept open until the end: `passenger stop` believes the pid only of a process holding it.
    WrittenPidFile pid_file = write_pid_file(options.pid_file, ::getpid());
    if (!pid_file.error.empty()) return reporter.fail(pid_file.error);
    log::notice("Watchdog {} listening on {} for {}", ::getpid(),
                format_host_port(options.address, options.port), options.app_root);

    // JSON lines on standard output are read by machines (journald, docker logs): the banner and
    // "Stopping web server..." for the terminal would be the only lines that are not JSON.
    const bool terminal_text =
        !options.daemonize && !(options.log_file == "-" && options.operations.log_format == "json");
    CoreSupervisor supervisor(options, listener.socket.get(), signals);
    if (options.ssl)
        supervisor.serve_tls(std::move(tls_credentials),
                             ssl_listener.socket.valid() ? ssl_listener.socket.get() : -1);
    bool stopping = false;
    int exit_code = supervisor.run({
        .on_first_ready =
            [&] {
                log::write_to_file(banner);
                if (terminal_text) {
                    fmt::print("{}", banner);
                    std::fflush(stdout);
                }
                reporter.ready();
                if (std::string error = notify_systemd("READY=1"); !error.empty())
                    log::error("{}", error);
            },
        .on_stopping =
            [&] {
                stopping = true;
                // The core holds its own copy; once it closes that, new connections are
                // refused instead of waiting in a backlog nobody accepts from.
                listener.socket.reset();
                (void)notify_systemd("STOPPING=1");
                if (!terminal_text) return;
                fmt::print("Stopping web server...");
                std::fflush(stdout);
            },
    });
    remove_pid_file_if_owned(options.pid_file, ::getpid());
    if (!supervisor.startup_error().empty()) {
        return reporter.report(supervisor.startup_error());
    }
    if (stopping && terminal_text) fmt::print(" done\n");
    log::notice("Watchdog {} exiting", ::getpid());
    return exit_code;
}

}  // namespace passenger::watchdog

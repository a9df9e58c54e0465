#include "watchdog/core_supervisor.hpp"

#include "common/exit_status.hpp"
#include "common/log.hpp"
#include "spawn/socket_dir.hpp"
#include "tls/credentials_channel.hpp"
#include "watchdog/core_configuration.hpp"
#include "watchdog/core_leftovers.hpp"
#include "watchdog/core_process.hpp"
#include "watchdog/orphans.hpp"
#include "watchdog/privileges.hpp"

#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace passenger::watchdog {
namespace {

using namespace std::chrono_literals;

// A core that does not honour PASSENGER_READY_FD is assumed ready after this long.
constexpr auto kReadinessFallback = 5s;
constexpr std::chrono::milliseconds kFirstRestartDelay = 100ms;
constexpr std::chrono::milliseconds kLongestRestartDelay = 5s;
// A core that dies sooner than this after starting counts as a quick failure; that many in a row
// means something is broken for good (a bad binary, a broken config) and restarting is pointless.
constexpr auto kQuickFailureWindow = 10s;
constexpr int kQuickFailuresBeforeGivingUp = 10;
// Beyond the shutdown time the core is allowed, before it is killed.
constexpr auto kKillMargin = 5s;

}  // namespace

CoreSupervisor::CoreSupervisor(const config::Options& options, int listen_fd,
                               SignalReceiver& signals, CoreCommand command)
    : options_(options),
      listen_fd_(listen_fd),
      signals_(signals),
      command_(std::move(command)),
      restart_delay_(kFirstRestartDelay) {}

int CoreSupervisor::run(SupervisorHooks hooks) {
    hooks_ = std::move(hooks);
    adopt_orphaned_descendants();
    // An earlier instance killed as a whole could not clean up after itself.
    if (int stale = remove_stale_dirs(core_user_id(options_.user), spawn::socket_dir_parent))
        log::notice("Removed {} socket folder(s) in {} left by instances that were killed", stale,
                    spawn::socket_dir_parent);
    start_core();
    while (!finished_) wait_for_events();
    return exit_code_;
}

void CoreSupervisor::start_core() {
    // Only the first core reports readiness: it decides when the banner appears.
    bool want_readiness = !first_ready_reported_;
    CoreSockets sockets{.listen = listen_fd_, .ssl_listen = ssl_listen_fd_};
    FileDescriptor core_end;
    if (tls_) {
        // The first handover waits in the channel until the core reads it.
        int pair[2];
        std::string error;
        if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) != 0)
            error = fmt::format("cannot create the TLS channel: {}", strerror(errno));
        tls_channel_.reset(error.empty() ? pair[0] : -1);
        core_end.reset(error.empty() ? pair[1] : -1);
        if (error.empty()) error = tls::send_credentials(tls_channel_.get(), tls_credentials_);
        if (!error.empty()) {
            on_core_failed(error);
            return;
        }
        sockets.tls_channel = core_end.get();
    }
    CoreLaunch launch =
        launch_core(command_, options_, sockets, want_readiness, signals_.original_mask());
    core_end.reset();  // only the core holds it
    if (!launch.error.empty()) {
        on_core_failed(launch.error);
        return;
    }
    core_pid_ = launch.pid;
    core_started_at_ = Clock::now();
    log::info("Started core process {}", core_pid_);
    send_configuration();
    if (want_readiness) {
        ready_reader_ = std::move(launch.ready_reader);
        readiness_deadline_ = core_started_at_ + kReadinessFallback;
    }
}

void CoreSupervisor::wait_for_events() {
    std::optional<Clock::time_point> deadline;
    for (const auto& candidate : {readiness_deadline_, restart_at_, kill_at_})
        if (candidate && (!deadline || *candidate < *deadline)) deadline = candidate;
    int timeout_ms = -1;
    if (deadline) {
        auto remaining = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
        timeout_ms =
            static_cast<int>(std::max<std::chrono::milliseconds::rep>(0, remaining.count()));
    }
    // An invalid descriptor (-1) is skipped by poll().
    pollfd fds[3] = {
        {signals_.fd(), POLLIN, 0}, {ready_reader_.get(), POLLIN, 0}, {lifeline_.get(), POLLIN, 0}};
    if (::poll(fds, 3, timeout_ms) < 0 && errno != EINTR) {
        log::error("poll failed: {}", strerror(errno));
        ::usleep(100 * 1000);  // never spin; the next round retries
        return;
    }
    if (fds[1].fd >= 0 && fds[1].revents != 0) on_ready_pipe_readable();
    if (fds[2].fd >= 0 && fds[2].revents != 0) on_lifeline_readable();
    while (!finished_) {
        std::optional<int> signal_number = signals_.next();
        if (!signal_number) break;
        if (*signal_number == SIGCHLD)
            reap_children();
        else if (*signal_number == SIGUSR1)
            reopen_logs();
        else if (*signal_number == SIGHUP && tls_ && !stopping_)
            reload_tls();
        else
            on_stop_signal(*signal_number);
    }
    if (!finished_) check_deadlines();
}

void CoreSupervisor::on_ready_pipe_readable() {
    char byte = 0;
    ssize_t length = ::read(ready_reader_.get(), &byte, 1);
    if (length > 0) {
        on_core_ready();
    } else if (length == 0) {
        // Closed without a byte: the core is exiting (SIGCHLD follows) or does not speak the
        // protocol (the fallback deadline decides).
        ready_reader_.reset();
    }
}

void CoreSupervisor::on_core_ready() {
    readiness_deadline_.reset();
    ready_reader_.reset();
    if (first_ready_reported_) return;
    first_ready_reported_ = true;
    log::info("Core process {} is accepting connections", core_pid_);
    if (!stopping_ && hooks_.on_first_ready) hooks_.on_first_ready();
}

void CoreSupervisor::reap_children() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == core_pid_) {
            on_core_exited(status);
        } else {
            // An adopted orphan: the spawn helper of a core that was killed leaves its folder.
            remove_spawn_helper_dirs(pid, spawn::socket_dir_parent);
        }
    }
}

void CoreSupervisor::on_core_exited(int wait_status) {
    pid_t pid = std::exchange(core_pid_, 0);
    kill_at_.reset();
    if (int orphans = kill_adopted_children(0); orphans > 0)
        log::notice("Killed {} app process(es) left behind by core process {}", orphans, pid);
    // A core that exits cleanly removes its socket folder itself; one that was killed cannot.
    remove_core_socket_dirs(pid, core_user_id(options_.user), spawn::socket_dir_parent);
    if (stopping_) {
        log::notice("Core process {} {}", pid, describe_exit(wait_status));
        finish(0);
        return;
    }
    on_core_failed(fmt::format("Core process {} {}", pid, describe_exit(wait_status)));
}

void CoreSupervisor::on_core_failed(const std::string& what) {
    readiness_deadline_.reset();
    ready_reader_.reset();
    if (!first_ready_reported_) {
        // Restarting a core that never came up would only repeat the error: stop and say why.
        startup_error_ = fmt::format("{} before it was ready (see {})", what, options_.log_file);
        log::error("{} before it was ready", what);
        finish(1);
        return;
    }
    Clock::time_point now = Clock::now();
    if (now - core_started_at_ >= kQuickFailureWindow) {
        quick_failures_ = 0;
        restart_delay_ = kFirstRestartDelay;
    }
    if (++quick_failures_ >= kQuickFailuresBeforeGivingUp) {
        log::error("{}; giving up: the core failed {} times in a row, each within {} s of starting",
                   what, quick_failures_, kQuickFailureWindow.count());
        finish(1);
        return;
    }
    log::error("{}; restarting in {} ms", what, restart_delay_.count());
    restart_at_ = now + restart_delay_;
    restart_delay_ = std::min(restart_delay_ * 2, kLongestRestartDelay);
    core_started_at_ = now;  // a launch that fails outright counts as a quick failure, too
}

void CoreSupervisor::on_stop_signal(int signal_number) {
    if (stopping_) {
        // Impatience: a core that is draining stops now.
        log::notice("Received SIG{} again; stopping the core without draining",
                    sigabbrev_np(signal_number));
        if (core_pid_ != 0) ::kill(core_pid_, SIGINT);
        return;
    }
    log::notice("Received SIG{}; stopping", sigabbrev_np(signal_number));
    begin_stop(signal_number == SIGTERM ? SIGTERM : SIGINT);
}

// SIGUSR1 (logrotate, `passenger-config reopen-logs`): this process's log file, then the
// core's (which reopens the access log too).
void CoreSupervisor::reopen_logs() {
    if (std::string error = log::open(options_.log_file, log::echoes()); !error.empty())
        log::error("Cannot reopen the log file: {}", error);
    if (core_pid_ != 0) ::kill(core_pid_, SIGUSR1);
}

// Read here, as the watchdog (root with --user), by the same rules as at start; a pair that does
// not load leaves the current one in place, and the core hears why (for reload-ssl to say).
void CoreSupervisor::reload_tls() {
    auto loaded = tls::load_credentials(options_.ssl_certificate, options_.ssl_certificate_key);
    if (auto* error = std::get_if<std::string>(&loaded)) {
        log::error(
            "Received SIGHUP; cannot reload the TLS certificate and key: {}; keeping the "
            "current ones",
            *error);
        if (core_pid_ != 0 && tls_channel_.valid())
            (void)tls::send_refused_reload(tls_channel_.get(), *error);
        return;
    }
    tls_credentials_ = std::move(std::get<tls::Credentials>(loaded));
    log::notice("Received SIGHUP; reloading the TLS certificate and key");
    if (core_pid_ == 0 || !tls_channel_.valid()) return;  // the next core gets them
    if (std::string error = tls::send_credentials(tls_channel_.get(), tls_credentials_);
        !error.empty())
        log::error("Cannot hand the TLS certificate and key to core process {}: {}", core_pid_,
                   error);
}

void CoreSupervisor::on_lifeline_readable() {
    char command = 0;
    ssize_t length = ::read(lifeline_.get(), &command, 1);
    if (length < 0 && errno == EINTR) return;
    if (length == 1 && command == 'c') {
        on_configuration_message();
        return;
    }
    lifeline_.reset();
    if (stopping_) return;
    const bool at_once = length == 1 && command == 's';
    log::notice("{} is {}; stopping{}", options_.integration_mode,
                length == 1 ? "stopping" : "gone", at_once ? " at once" : "");
    begin_stop();
    if (at_once && core_pid_ != 0) {
        ::kill(core_pid_, SIGKILL);  // its apps are killed once it is reaped
        kill_at_.reset();
    }
}

// nginx built a configuration cycle: the core gets its apps and http{} settings (kept for the
// cores started later). A broken frame leaves everything as it was.
void CoreSupervisor::on_configuration_message() {
    std::string payload;
    if (std::string error = read_configuration_frame(lifeline_.get(), payload); !error.empty()) {
        log::error("Ignored nginx's configuration: {}", error);
        return;
    }
    configuration_ = std::move(payload);
    send_configuration();
}

void CoreSupervisor::send_configuration() {
    if (configuration_.empty() || core_pid_ == 0 || stopping_) return;
    if (std::string error = send_configuration_to_core(listen_fd_, configuration_); !error.empty())
        log::error("Cannot give the core nginx's configuration: {}", error);
}

void CoreSupervisor::begin_stop(int core_signal) {
    stopping_ = true;
    if (hooks_.on_stopping) hooks_.on_stopping();
    restart_at_.reset();
    readiness_deadline_.reset();
    if (core_pid_ == 0) {
        finish(0);
        return;
    }
    ::kill(core_pid_, core_signal);
    const int drain = core_signal == SIGTERM ? options_.operations.drain_timeout_seconds : 0;
    kill_at_ = Clock::now() +
               std::chrono::seconds(drain + options_.graceful_shutdown_seconds +
                                    options_.app_stop_timeout_seconds) +
               kKillMargin;
}

void CoreSupervisor::check_deadlines() {
    Clock::time_point now = Clock::now();
    if (readiness_deadline_ && now >= *readiness_deadline_) {
        log::warn("Core process {} did not report readiness within {} s; assuming it serves",
                  core_pid_, kReadinessFallback.count());
        on_core_ready();
    }
    if (restart_at_ && now >= *restart_at_) {
        restart_at_.reset();
        start_core();
    }
    if (kill_at_ && now >= *kill_at_) {
        kill_at_.reset();
        log::error("Core process {} did not stop in time; killing it", core_pid_);
        ::kill(core_pid_, SIGKILL);
    }
}

void CoreSupervisor::finish(int exit_code) {
    finished_ = true;
    exit_code_ = exit_code;
}

}  // namespace passenger::watchdog

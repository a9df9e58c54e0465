// Keeps one core process running: starts it, notices when it is ready, restarts it with backoff
// when it dies unexpectedly, and stops it on SIGINT, SIGTERM or SIGHUP (SIGTERM is passed on, so
// the core drains with --drain-timeout; the others become SIGINT, a stop without draining; SIGKILL
// after a deadline). With --ssl, SIGHUP reloads the certificate and key instead. One blocking
// poll loop over a signalfd; no threads, no handlers.
#pragma once

#include "common/file_descriptor.hpp"
#include "config/options.hpp"
#include "tls/credentials.hpp"
#include "watchdog/core_process.hpp"
#include "watchdog/signal_receiver.hpp"

#include <signal.h>
#include <sys/types.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace passenger::watchdog {

struct SupervisorHooks {
    std::function<void()> on_first_ready;  // once, when the first core accepts connections
    std::function<void()> on_stopping;     // once, when a stop signal arrives
};

class CoreSupervisor {
  public:
    CoreSupervisor(const config::Options& options, int listen_fd, SignalReceiver& signals,
                   CoreCommand command = {});

    // Returns the exit code: 0 after a requested stop, 1 when the first core failed before it was
    // ready (see startup_error()) or the core kept crashing.
    int run(SupervisorHooks hooks);
    // The nginx module's lifeline (watchdog/nginx_watchdog.hpp): "q" or end of file stops like
    // SIGTERM, "s" stops at once (the core and its apps are killed), "c" + frame is nginx's
    // configuration (core_configuration.hpp), handed to this core and every later one.
    void watch_lifeline(FileDescriptor lifeline) { lifeline_ = std::move(lifeline); }
    // --ssl: each core gets `credentials` (and those of each reload on SIGHUP) over a channel,
    // and the HTTPS listening socket `ssl_listen_fd` (-1: the one at listen_fd serves HTTPS).
    void serve_tls(tls::Credentials credentials, int ssl_listen_fd) {
        tls_credentials_ = std::move(credentials);
        ssl_listen_fd_ = ssl_listen_fd;
        tls_ = true;
    }
    const std::string& startup_error() const { return startup_error_; }

  private:
    using Clock = std::chrono::steady_clock;

    void start_core();
    void wait_for_events();
    void on_ready_pipe_readable();
    void on_core_ready();
    void on_core_exited(int wait_status);
    void on_core_failed(const std::string& what);
    void on_stop_signal(int signal_number);
    void reload_tls();
    void on_lifeline_readable();
    void on_configuration_message();
    void send_configuration();
    void reopen_logs();
    void begin_stop(int core_signal = SIGTERM);
    void reap_children();
    void check_deadlines();
    void finish(int exit_code);

    const config::Options& options_;
    int listen_fd_;
    SignalReceiver& signals_;
    SupervisorHooks hooks_;
    CoreCommand command_;

    pid_t core_pid_ = 0;  // 0 while no core runs
    Clock::time_point core_started_at_;
    FileDescriptor ready_reader_;
    FileDescriptor lifeline_;
    std::string configuration_;  // the latest from nginx (integration mode), else empty
    bool tls_ = false;
    tls::Credentials tls_credentials_;  // the last good pair: what a (re)started core gets
    int ssl_listen_fd_ = -1;
    FileDescriptor tls_channel_;  // the watchdog's end of the running core's channel
    bool first_ready_reported_ = false;
    bool stopping_ = false;
    int quick_failures_ = 0;
    std::chrono::milliseconds restart_delay_;
    std::optional<Clock::time_point> readiness_deadline_, restart_at_, kill_at_;

    bool finished_ = false;
    int exit_code_ = 0;
    std::string startup_error_;
};

}  // namespace passenger::watchdog

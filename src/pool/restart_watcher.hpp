// Watches an app's tmp/restart.txt and tmp/always_restart.txt. With inotify a change of
// restart.txt's mtime is noticed at once, without waiting for a request (Passenger only checks on
// requests, at most every --stat-throttle-rate seconds); where inotify is unavailable, that
// throttled check on requests is the fallback.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace passenger::pool {

class RestartWatcher {
  public:
    RestartWatcher(asio::io_context& io, std::string app_root, int stat_throttle_seconds,
                   std::function<void()> on_restart);
    RestartWatcher(const RestartWatcher&) = delete;
    RestartWatcher& operator=(const RestartWatcher&) = delete;
    ~RestartWatcher();

    void start();
    void stop();

    // Called for each request: runs the throttled stat check when inotify is unavailable.
    void on_request();
    // True while tmp/always_restart.txt exists.
    bool always_restart() const { return always_restart_; }

  private:
    void watch_tmp_dir();
    void read_events();
    void check_files();

    asio::io_context& io_;
    std::string app_root_;
    std::string tmp_dir_;
    std::chrono::seconds stat_throttle_;
    std::function<void()> on_restart_;
    std::optional<asio::posix::stream_descriptor> inotify_;
    asio::steady_timer settle_timer_;  // one check after a burst of events (touch makes two)
    bool check_pending_ = false;
    int tmp_watch_ = -1;
    std::optional<long long> restart_mtime_ns_;  // of restart.txt when last seen; none: absent
    bool always_restart_ = false;
    std::chrono::steady_clock::time_point next_stat_check_{};
    char buffer_[4096];
};

}  // namespace passenger::pool

// Watches an app's tmp/restart.txt and tmp/always_restart.txt. With inotify a change of
// restart.txt's mtime is noticed at once, without waiting for a request (Passenger only checks on
// requests, at most every --stat-throttle-rate seconds). That throttled check on requests runs
// as well, whatever inotify says: it is the fallback where inotify is unavailable, and it catches
// what no watch can see (an app folder reached through a symlink that was switched).
//
// Deploy tools delete tmp/ and create it again, or move a new folder into place: the app folder
// is watched too, and every look at the files renews both watches, so the watch always sits on
// the tmp/ that is there now. An app root that is a symlink has the folder holding the link
// watched as well: switching the link (ln -sfn releases/N+1 current) moves the watches to the
// new release at once, so its restart.txt is seen like any other.
#pragma once

#include "spawn/directory_watch.hpp"

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
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

    void start();
    void stop();

    // Called for each request: looks at the files now if events are waiting to settle, else at
    // most every --stat-throttle-rate seconds.
    void on_request();
    // Whether on_request() would look at the files now; from any loop (a request elsewhere asks
    // the pool's loop only then: Group's fast path).
    bool wants_request_check(std::chrono::steady_clock::time_point now) const {
        return check_pending_ || now >= next_stat_check_.load(std::memory_order_relaxed);
    }
    // True while tmp/always_restart.txt exists. From any loop.
    bool always_restart() const { return always_restart_; }

  private:
    void renew_watches();
    void on_folder_changed();
    void check_files();

    std::string app_root_;
    std::string tmp_dir_;
    std::chrono::seconds stat_throttle_;
    std::function<void()> on_restart_;
    asio::steady_timer settle_timer_;  // one check after a burst of events (touch makes two)
    // Written on the pool's loop; the three atomics are read on every loop.
    std::atomic<bool> check_pending_ = false;
    bool stopped_ = false;
    std::optional<long long> restart_mtime_ns_;  // of restart.txt when last seen; none: absent
    std::atomic<bool> always_restart_ = false;
    std::atomic<std::chrono::steady_clock::time_point> next_stat_check_{};
    spawn::DirectoryWatch folders_;  // last: its handler uses the members above
};

}  // namespace passenger::pool

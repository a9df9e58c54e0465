// Reaps exited children (SIGCHLD) and tells whoever watches a pid how it ended.
#pragma once

#include <sys/types.h>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <functional>
#include <unordered_map>

namespace passenger::spawn {

class ChildReaper {
  public:
    using ExitHandler = std::function<void(int wait_status)>;

    explicit ChildReaper(asio::io_context& io);

    // Calls `handler` once when `pid` exits (at once if it already has). Replaces any handler.
    void watch(pid_t pid, ExitHandler handler);
    // An exit reaped elsewhere (the spawn helper reaps the app processes it started).
    void report_exit(pid_t pid, int wait_status);

  private:
    void wait_for_signal();
    void reap();

    asio::signal_set signals_;
    std::unordered_map<pid_t, ExitHandler> handlers_;
    std::unordered_map<pid_t, int> unclaimed_;  // exited before anyone watched them
};

}  // namespace passenger::spawn

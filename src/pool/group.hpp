// One application and its processes: spawning, selection (the least busy process with free
// concurrency), the request queue, crash handling and shutdown.
#pragma once

#include "config/options.hpp"
#include "pool/process.hpp"
#include "pool/session.hpp"
#include "spawn/spawner.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <vector>

namespace passenger::pool {

struct SessionResult {
    Session session;  // empty on failure
    int error_status = 0;
    std::string error_detail_html;  // for the error page
};

class Group {
  public:
    Group(asio::io_context& io, const config::Options& options, spawn::Spawner& spawner,
          spawn::ChildReaper& reaper);
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;

    // Spawns the --min-instances processes.
    void start();
    // Waits for a process to take one request: at once if one has capacity, else queued.
    asio::awaitable<SessionResult> get_session();
    // Stops every process (SIGTERM, then SIGKILL after the stop timeout) and waits until gone.
    asio::awaitable<void> shutdown();

    // The process did not accept a connection: it is dying or broken. It takes no more requests
    // and is killed; its exit is handled as a crash.
    void on_process_unreachable(Process& process);

    size_t process_count() const { return processes_.size(); }

  private:
    friend class Session;
    struct Waiter;

    void on_session_released(Process& process);
    void on_process_exited(const std::shared_ptr<Process>& process, int wait_status);
    void spawn_one();
    asio::awaitable<void> run_spawn();
    void serve_queue();
    void fail_queue(int status, const std::string& detail_html);
    std::shared_ptr<Process> least_busy_with_capacity() const;
    bool may_spawn() const;
    bool in_failure_backoff() const;
    std::string spawn_failure_html(const spawn::SpawnResult& result) const;

    asio::io_context& io_;
    const config::Options& options_;
    spawn::Spawner& spawner_;
    spawn::ChildReaper& reaper_;
    std::vector<std::shared_ptr<Process>> processes_;
    std::deque<std::shared_ptr<Waiter>> queue_;
    int spawning_ = 0;
    bool shutting_down_ = false;

    // After a failed spawn, requests get the failure page until the backoff ends.
    std::chrono::steady_clock::time_point backoff_until_{};
    std::chrono::milliseconds backoff_{0};
    std::string last_failure_html_;
};

}  // namespace passenger::pool

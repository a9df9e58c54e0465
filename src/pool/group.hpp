// One application and its processes: spawning, selection (the least busy process with free
// concurrency), the request queue, scaling, restarts, crash handling and shutdown. Groups live in
// a Pool (pool.hpp), which owns the cap on processes shared by all apps.
#pragma once

#include "config/options.hpp"
#include "pool/process.hpp"
#include "pool/restart_watcher.hpp"
#include "pool/session.hpp"
#include "pool/session_error.hpp"
#include "spawn/spawner.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace passenger::pool {

class Pool;

struct SessionResult {
    Session session;                    // empty on failure
    std::optional<SessionError> error;  // set on failure
};

// Lifetime counters, for status output and metrics.
struct GroupCounters {
    uint64_t spawns = 0;
    uint64_t spawn_failures = 0;
    uint64_t crashes = 0;
    uint64_t restarts = 0;
    uint64_t requests = 0;
    uint64_t queue_drops = 0;  // queued requests whose client went away, or that waited too long
};

class Group {
  public:
    // Called with a function that abandons the wait, when a request enters the queue; the caller
    // may call it later (its client went away).
    using OnQueued = std::function<void(std::function<void()> abandon)>;

    // Made by Pool::group_for. `key` names the app in the pool (pool.hpp: group_key).
    Group(Pool& pool, std::string key, std::shared_ptr<const config::Options> options);
    Group(const Group&) = delete;
    Group& operator=(const Group&) = delete;

    // Spawns the --min-instances processes and starts watching restart.txt and the processes.
    void start();
    // A process for one request: at once if one has capacity, else queued (FIFO). With a
    // `sticky_id` naming a live process (sticky sessions), that process only: queued while it is
    // busy; a `sticky_id` no process has any more is ignored. On any loop, a process with room
    // is taken there, under the group's mutex (the fast path). Otherwise (queueing, errors, a
    // restart.txt check due) the decision is made on the pool's loop (the request waits there),
    // `on_queued` runs on the caller's loop and the abandon function it gets posts back to the
    // pool's.
    asio::awaitable<SessionResult> get_session(OnQueued on_queued = {}, std::string sticky_id = {});
    // Replaces every process: rolling (new before old) with --rolling-restarts, keeping the old
    // ones if the new version fails with --resist-deployment-errors.
    void restart();
    // New settings for the app (a reload changed them): later spawns use them, and the processes
    // are replaced by a restart (rolling with --rolling-restarts).
    void change_options(std::shared_ptr<const config::Options> options);
    // Settings whose app_settings_fingerprint is the group's (only server-wide ones differ, such
    // as --pool-idle-time): taken as they are, nothing restarts.
    void adopt_options(std::shared_ptr<const config::Options> options) {
        if (shutting_down_) return;
        std::lock_guard lock(mutex_);
        options_ = std::move(options);
    }
    // Stops every process (SIGTERM, then SIGKILL after the stop timeout) and waits until gone.
    asio::awaitable<void> shutdown();
    // After shutdown(): nothing refers to this group any more (no spawn, timer, request or
    // session in flight), so it may be destroyed.
    bool finished() const;

    // For the Pool: processes that count against --max-pool-size (ready and being spawned).
    int live_count() const { return ready_count() + spawning_.load(); }
    // Requests wait that only a new process can take, and none is being spawned.
    bool needs_process() const;
    // A request would be served: a process is ready, one is starting, or one may be started now
    // (not stopping, not backing off after a failed start, room in the pool). The health check.
    bool can_take_requests() const;
    // The ready process without requests that has been idle the longest, if any (for eviction).
    std::shared_ptr<Process> longest_idle_process() const;
    // The pool is full and another app needs a process: this one drains.
    void evict(Process& process);
    // Room in the pool may have appeared: spawns for waiting requests if still needed, then up
    // to --min-instances if the pool still has room.
    void on_room_available();

    // The process did not accept a connection: it is dying or broken. It takes no more requests
    // from the moment of the call (so a retry is given another one) and is killed; its exit is
    // handled as a crash. (From any loop: the caller holds a session.)
    void on_process_unreachable(Process& process);
    // A request ran past --max-request-time on this process: it is killed and replaced. (From
    // any loop, holding a session.)
    void on_request_timed_out(Process& process);
    // nginx mode, a request from another loop found this group: it stays until unpin(), so that
    // it cannot be destroyed before the request asks for a session. From any loop: a loop pins
    // a group it keeps a pin on already (server/server.cpp, LoopGroups), or on the pool's loop.
    void pin() { ++pins_; }
    void unpin() { --pins_; }

    const std::vector<std::shared_ptr<Process>>& processes() const { return processes_; }
    size_t queue_length() const { return queue_.size(); }
    int spawning() const { return spawning_; }
    GroupCounters counters() const {
        GroupCounters counters = counters_;
        counters.requests = requests_.load(std::memory_order_relaxed);
        return counters;
    }
    const std::string& last_error() const { return last_error_; }
    const std::string& key() const { return key_; }
    const config::Options& options() const { return *options_; }
    // For callers that use the settings across a co_await: a change_options() meanwhile
    // replaces them, and the copy keeps the old ones alive. From any loop.
    std::shared_ptr<const config::Options> shared_options() const {
        std::lock_guard lock(mutex_);
        return options_;
    }

  private:
    friend class Session;
    struct Waiter;
    enum class RestartMode { none, spawn_first, rolling };

    // Selection and the queue (group.cpp).
    std::shared_ptr<Process> least_busy_with_capacity() const;
    std::shared_ptr<Process> find_sticky(std::string_view sticky_id) const;
    std::shared_ptr<Process> process_for(const Waiter& waiter) const;
    void serve_queue();
    void fail_queue(const SessionError& error);
    void abandon(const std::shared_ptr<Waiter>& waiter, SessionError error);
    asio::awaitable<SessionResult> get_session_here(OnQueued on_queued, std::string sticky_id);
    // The fast path, on any loop: a session of the sticky or least busy process if it has room
    // and nothing else needs deciding (group.cpp); none: ask get_session_here.
    std::optional<Session> try_take_session(std::string_view sticky_id);
    Session take(std::shared_ptr<Process> process);  // under mutex_
    // Session's end and its tunnel (session.cpp): on the caller's loop when nothing waits on it
    // (try_release_here), else posted to the pool's loop.
    void on_session_released(std::shared_ptr<Process> process, std::optional<uint64_t> tunnel);
    bool try_release_here(Process& process);
    void on_session_released_here(Process& process);
    int end_session(Process& process);  // under mutex_: the process's sessions left
    void add_tunnel(std::shared_ptr<Process> process, uint64_t id, std::function<void()> close);
    void grow_if_saturated();
    bool saturated() const;
    void check_growth();  // after the fast path found the group saturated
    // Under mutex_: a ready process leaves rotation. False if it was not ready.
    bool leave_rotation(Process& process, ProcessState state);

    // Process lifecycle (group_lifecycle.cpp).
    void spawn_one();
    asio::awaitable<void> run_spawn(uint64_t generation);
    void on_spawned(spawn::SpawnResult& result, uint64_t generation,
                    std::chrono::steady_clock::time_point started);
    void on_spawn_failed(const spawn::SpawnResult& result, uint64_t generation);
    void on_process_exited(const std::shared_ptr<Process>& process, int wait_status);
    void drain(Process& process, std::string_view why);
    void stop_process(Process& process);
    void close_tunnels(Process& process, bool even_if_kept = false);
    void close_idle_connections(Process& process);
    void kill_unreachable(Process& process, pid_t pid);
    void ensure_minimum();
    bool may_spawn() const;
    bool may_spawn_making_room();
    int ready_count() const;
    int wanted_minimum() const;
    bool in_failure_backoff() const;
    SessionError spawn_failure(const spawn::SpawnResult& result) const;

    // Periodic work (group_maintenance.cpp): CPU and memory sampling, idle reaping, memory limit.
    asio::awaitable<void> maintenance_loop();
    asio::awaitable<void> sample_metrics(double elapsed_seconds);
    void reap_idle_processes();
    void enforce_memory_limit();

    asio::io_context& io_;
    Pool& pool_;
    std::string key_;
    std::shared_ptr<const config::Options> options_;  // replaced on the pool's loop only
    // Held for decisions only, never across a co_await or I/O, and never while calling into the
    // Pool or another group. It guards what the fast path reads and writes: options_ (replaced),
    // processes_ (the list), each process's state leaving `ready` and its sessions, queue_,
    // open_sessions_, shutting_down_. The pool's loop writes them under it and may read them
    // without it where only it writes (the list, the queue, the state); other loops hold it.
    mutable std::mutex mutex_;
    spawn::Spawner& spawner_;
    spawn::ChildReaper& reaper_;
    RestartWatcher restart_watcher_;
    std::vector<std::shared_ptr<Process>> processes_;  // ready, draining and stopping ones
    std::deque<std::shared_ptr<Waiter>> queue_;
    std::atomic<int> spawning_{0};  // read by the fast path (saturation)
    bool shutting_down_ = false;
    // What finished() waits for: coroutines inside get_session, sessions not yet released, the
    // maintenance loop.
    int requests_inside_ = 0;
    int open_sessions_ = 0;
    std::atomic<int> pins_{0};
    // Saturation checks posted by the fast path of other loops: at most one per maintenance tick
    // (in a full pool every request would find the group saturated), counted for finished().
    std::atomic<bool> growth_check_posted_{false};
    std::atomic<int> growth_checks_in_flight_{0};
    bool maintenance_running_ = false;
    asio::steady_timer maintenance_timer_;
    ProcessGroupMembers members_;        // of each process's group, for sample_metrics()
    GroupCounters counters_;             // but requests: requests_
    std::atomic<uint64_t> requests_{0};  // counted on every loop
    std::string last_error_;

    uint64_t generation_ = 0;  // raised by each restart; older processes are replaced
    RestartMode restart_mode_ = RestartMode::none;

    // After a failed spawn, requests get the failure page until the backoff ends.
    std::chrono::steady_clock::time_point backoff_until_{};
    std::chrono::milliseconds backoff_{0};
    std::optional<SessionError> last_failure_;
    asio::steady_timer retry_timer_;
    bool retry_scheduled_ = false;
};

}  // namespace passenger::pool

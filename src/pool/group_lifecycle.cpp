// Spawning, draining, stopping and restarting the processes of a Group, and their exits.
#include "common/exit_status.hpp"
#include "common/log.hpp"
#include "pool/group.hpp"
#include "pool/pool.hpp"

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <csignal>

namespace passenger::pool {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

int Group::ready_count() const {
    return static_cast<int>(std::count_if(processes_.begin(), processes_.end(),
                                          [](const auto& p) { return p->ready(); }));
}

int Group::wanted_minimum() const {
    return std::min(options_->min_instances, pool_.max_pool_size());
}

// The cap is the pool's, shared by all apps (Pool::has_room). Draining and stopping processes do
// not count against it: they take no requests and are on their way out, and counting them would
// stall every restart at the cap.
bool Group::may_spawn() const {
    return !shutting_down_ && pool_.has_room();
}

// For requests that wait: in a full pool, the longest-idle process of another app makes room.
bool Group::may_spawn_making_room() {
    return !shutting_down_ && pool_.make_room_for(*this);
}

bool Group::in_failure_backoff() const {
    return Clock::now() < backoff_until_;
}

bool Group::can_take_requests() const {
    if (shutting_down_) return false;
    return ready_count() > 0 || spawning_ > 0 || (!in_failure_backoff() && pool_.has_room());
}

void Group::ensure_minimum() {
    if (shutting_down_) return;
    int missing = wanted_minimum() - ready_count() - spawning_;
    if (missing <= 0 && !(queue_.size() > 0 && ready_count() == 0 && spawning_ == 0)) return;
    missing = std::max(missing, 1);
    const bool requests_wait = !queue_.empty() && ready_count() == 0 && spawning_ == 0;
    if (in_failure_backoff()) {
        // Try again when the backoff ends, not in a busy loop.
        if (retry_scheduled_) return;
        retry_scheduled_ = true;
        retry_timer_.expires_at(backoff_until_);
        retry_timer_.async_wait([this](const asio::error_code& error) {
            retry_scheduled_ = false;
            if (!error) ensure_minimum();
        });
        return;
    }
    // Waiting requests may evict another app's idle process; the minimum alone does not.
    if (requests_wait && may_spawn_making_room()) {
        spawn_one();
        --missing;
    }
    for (int i = 0; i < missing && may_spawn(); ++i) spawn_one();
}

void Group::spawn_one() {
    ++spawning_;
    asio::co_spawn(io_, run_spawn(generation_), asio::detached);
}

asio::awaitable<void> Group::run_spawn(uint64_t generation) {
    auto started = Clock::now();
    // A copy: change_options() may replace the group's settings while the spawn runs.
    std::shared_ptr<const config::Options> options = options_;
    spawn::SpawnResult result = co_await spawner_.spawn(*options);
    --spawning_;
    if (result.ok) {
        on_spawned(result, generation, started);
    } else {
        on_spawn_failed(result, generation);
    }
}

void Group::on_spawned(spawn::SpawnResult& result, uint64_t generation, Clock::time_point started) {
    ++counters_.spawns;
    backoff_ = 0ms;
    auto process = std::make_shared<Process>();
    process->idle_connections.resize(pool_.loop_count());
    process->pid = result.pid;
    process->endpoint = result.endpoint;
    process->output = std::move(result.output);
    process->generation = generation;
    process->spawned_at = process->last_used = Clock::now();
    process->max_sessions = options_->max_concurrent_requests >= 0
                                ? options_->max_concurrent_requests
                                : spawn::default_max_concurrent_requests(result.app_type);
    {
        std::lock_guard lock(mutex_);  // the fast path may take it from here on
        processes_.push_back(process);
    }
    reaper_.watch(process->pid,
                  [this, process](int wait_status) { on_process_exited(process, wait_status); });
    log::notice(
        "App process {} is ready ({} ms)", process->pid,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());

    if (shutting_down_ || generation != generation_) {
        // Spawned for the version before a restart, or during shutdown: not wanted any more.
        stop_process(*process);
        ensure_minimum();
        return;
    }
    if (restart_mode_ == RestartMode::spawn_first) {
        // The new version starts: now the old processes may go.
        for (auto& old : processes_) {
            if (old->generation != generation_ && old->ready()) drain(*old, "the app restarts");
        }
        restart_mode_ = RestartMode::none;
        ensure_minimum();
    } else if (restart_mode_ == RestartMode::rolling) {
        auto old = std::find_if(processes_.begin(), processes_.end(), [this](const auto& p) {
            return p->ready() && p->generation != generation_;
        });
        if (old != processes_.end()) drain(**old, "rolling restart: its replacement is ready");
        bool more_old = std::any_of(processes_.begin(), processes_.end(), [this](const auto& p) {
            return p->ready() && p->generation != generation_;
        });
        if (more_old) {
            spawn_one();
        } else {
            restart_mode_ = RestartMode::none;
            log::notice("Rolling restart complete");
            ensure_minimum();
        }
    }
    serve_queue();
}

void Group::on_spawn_failed(const spawn::SpawnResult& result, uint64_t generation) {
    ++counters_.spawn_failures;
    log::error("Could not start the application: {}", result.failure);
    last_error_ = result.failure;
    backoff_ = std::min<std::chrono::milliseconds>(backoff_ == 0ms ? 500ms : backoff_ * 2, 5s);
    backoff_until_ = Clock::now() + backoff_;
    last_failure_ = spawn_failure(result);
    if (generation == generation_ && restart_mode_ != RestartMode::none) {
        bool old_serving = ready_count() > 0;
        if (old_serving) {
            log::error(
                "The new version of the application failed to start; the previous "
                "processes keep serving{}",
                options_->resist_deployment_errors ? " (--resist-deployment-errors)" : "");
            restart_mode_ = RestartMode::none;
            return;
        }
    }
    if (ready_count() == 0 && spawning_ == 0) fail_queue(*last_failure_);
    ensure_minimum();  // retries after the backoff, if processes are still wanted
}

void Group::on_process_exited(const std::shared_ptr<Process>& process, int wait_status) {
    bool expected = process->state == ProcessState::stopping;
    {
        std::lock_guard lock(mutex_);
        process->state = ProcessState::gone;
        std::erase(processes_, process);
    }
    pool_.close_idle_connections(process);
    if (expected) {
        log::info("App process {} {}", process->pid, describe_exit(wait_status));
    } else {
        ++counters_.crashes;
        // Requests in flight on it get 502 from the proxy, which usually notices first.
        log::error("App process {} {} unexpectedly", process->pid, describe_exit(wait_status));
    }
    ensure_minimum();
    serve_queue();
    pool_.on_process_gone();
}

bool Group::leave_rotation(Process& process, ProcessState state) {
    std::lock_guard lock(mutex_);
    if (process.state != ProcessState::ready) return false;
    process.state = state;
    return true;
}

// A draining process takes no session on any loop any more (leave_rotation), and its releases
// all come to this loop: its count of sessions only goes down, here.
void Group::drain(Process& process, std::string_view why) {
    if (!leave_rotation(process, ProcessState::draining)) return;
    log::notice("App process {} is replaced: {}", process.pid, why);
    close_idle_connections(process);
    close_tunnels(process);
    if (process.sessions == 0) stop_process(process);
}

std::shared_ptr<Process> Group::longest_idle_process() const {
    std::shared_ptr<Process> oldest;
    for (const auto& process : processes_) {
        if (process->ready() && process->sessions == 0 &&
            (!oldest || process->last_used.load() < oldest->last_used.load()))
            oldest = process;
    }
    return oldest;
}

void Group::evict(Process& process) {
    drain(process, "the pool is full and another app needs a process");
}

// Tunnels (WebSockets) would keep a draining process alive as long as their clients stay: they
// are closed, unless --no-abort-websockets-on-process-shutdown. Their sessions end later, once
// the proxy noticed.
void Group::close_tunnels(Process& process, bool even_if_kept) {
    if (process.tunnels.empty()) return;
    if (!options_->abort_websockets_on_process_shutdown && !even_if_kept) return;
    log::info("Closing {} WebSocket/upgraded connection(s) of app process {}",
              process.tunnels.size(), process.pid);
    auto tunnels = std::move(process.tunnels);
    process.tunnels.clear();
    for (auto& [id, close] : tunnels) close();
}

void Group::stop_process(Process& process) {
    {
        std::lock_guard lock(mutex_);
        if (process.state == ProcessState::stopping) return;
        process.state = ProcessState::stopping;
    }
    close_idle_connections(process);
    close_tunnels(process);
    spawner_.signal_process_group(process.pid, SIGTERM);
    // SIGKILL if it has not exited by the stop timeout. The timer holds the process so its pid
    // is not signalled after it was reaped (and perhaps reused).
    auto timer = std::make_shared<asio::steady_timer>(io_);
    timer->expires_after(std::chrono::seconds(options_->app_stop_timeout_seconds));
    auto self = std::find_if(processes_.begin(), processes_.end(),
                             [&](const auto& p) { return p.get() == &process; });
    if (self == processes_.end()) return;
    std::weak_ptr<Process> weak = *self;
    timer->async_wait([this, timer, weak](const asio::error_code& error) {
        auto process = weak.lock();
        if (error || !process) return;
        if (std::find(processes_.begin(), processes_.end(), process) == processes_.end()) return;
        log::warn("App process {} did not stop within {} s; killing it", process->pid,
                  options_->app_stop_timeout_seconds);
        spawner_.signal_process_group(process->pid, SIGKILL);
    });
}

void Group::restart() {
    if (shutting_down_) return;
    ++generation_;
    ++counters_.restarts;
    if (options_->rolling_restarts) {
        restart_mode_ = RestartMode::rolling;
        log::notice("Restarting the application (rolling)");
    } else if (options_->resist_deployment_errors) {
        restart_mode_ = RestartMode::spawn_first;
        log::notice("Restarting the application (the old processes serve until the new one is up)");
    } else {
        restart_mode_ = RestartMode::none;
        log::notice("Restarting the application");
        for (auto& process : processes_) drain(*process, "the app restarts");
        ensure_minimum();
        return;
    }
    backoff_until_ = {};  // a deliberate restart retries at once
    if (ready_count() == 0) {
        // Nothing to keep serving: a plain restart.
        restart_mode_ = RestartMode::none;
        ensure_minimum();
        return;
    }
    spawn_one();
}

void Group::change_options(std::shared_ptr<const config::Options> options) {
    if (shutting_down_) return;
    log::notice("The settings of {} changed; restarting it", key_);
    {
        std::lock_guard lock(mutex_);
        options_ = std::move(options);
    }
    restart();
}

// Each loop closes its own (a socket belongs to the loop that opened it).
void Group::close_idle_connections(Process& process) {
    auto self = std::find_if(processes_.begin(), processes_.end(),
                             [&](const auto& p) { return p.get() == &process; });
    if (self != processes_.end()) pool_.close_idle_connections(*self);
}

void Group::on_process_unreachable(Process& process) {
    // Out of rotation at once, on the caller's loop: the request's next attempt asks for a
    // session right away, and must not be given this process again (it has the fewest requests
    // in flight: theirs just failed) before the pool's loop got to it.
    if (!leave_rotation(process, ProcessState::gone)) return;
    if (!pool_.on_own_loop()) {
        asio::post(io_, [this, &process, pid = process.pid] { kill_unreachable(process, pid); });
        return;
    }
    kill_unreachable(process, process.pid);
}

// On the pool's loop. The process may have been reaped (and freed) since it was found
// unreachable: only one still listed, by address and pid, is touched.
void Group::kill_unreachable(Process& process, pid_t pid) {
    auto listed = std::find_if(processes_.begin(), processes_.end(),
                               [&](const auto& p) { return p.get() == &process; });
    if (listed == processes_.end() || (*listed)->pid != pid) return;
    pool_.close_idle_connections(*listed);
    spawner_.signal_process_group(pid, SIGKILL);
}

void Group::on_request_timed_out(Process& process) {
    if (!pool_.on_own_loop()) {  // the caller's session keeps the process and the group
        asio::post(io_, [this, &process] { on_request_timed_out(process); });
        return;
    }
    {
        std::lock_guard lock(mutex_);
        if (process.state == ProcessState::stopping) return;
        process.state = ProcessState::stopping;
    }
    log::error("App process {} exceeded --max-request-time ({} s); killing and replacing it",
               process.pid, options_->max_request_time_seconds);
    process.killed_for_request_time = true;
    close_idle_connections(process);
    spawner_.signal_process_group(process.pid, SIGKILL);
    ensure_minimum();
}

asio::awaitable<void> Group::shutdown() {
    {
        std::lock_guard lock(mutex_);
        shutting_down_ = true;
    }
    restart_watcher_.stop();
    retry_timer_.cancel();
    maintenance_timer_.cancel();
    fail_queue(shutting_down_error());
    // One SIGTERM per process, never more: many apps take a second SIGTERM as "quit now" and
    // skip their graceful shutdown. A process still spawning gets its own from on_spawned().
    for (auto& process : processes_) {
        close_tunnels(*process, true);
        stop_process(*process);
    }
    asio::steady_timer timer(io_);
    auto wait_until_gone = [&](std::chrono::milliseconds limit) -> asio::awaitable<void> {
        auto deadline = Clock::now() + limit;
        while ((!processes_.empty() || spawning_ > 0) && Clock::now() < deadline) {
            timer.expires_after(10ms);
            co_await timer.async_wait(asio::use_awaitable);
        }
    };
    co_await wait_until_gone(std::chrono::seconds(options_->app_stop_timeout_seconds));
    if (!processes_.empty()) {
        log::warn("{} app process(es) did not stop in time; killing them", processes_.size());
        for (auto& process : processes_) spawner_.signal_process_group(process->pid, SIGKILL);
        co_await wait_until_gone(2s);
    }
}

SessionError Group::spawn_failure(const spawn::SpawnResult& result) const {
    SessionError error = session_error(SessionErrorKind::spawn_failed, 500, result.failure);
    error.app_root = options_->app_root;
    error.app_output = result.recent_output;
    return error;
}

}  // namespace passenger::pool

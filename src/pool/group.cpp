#include "pool/group.hpp"

#include "common/log.hpp"
#include "pool/pool.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace passenger::pool {

using Clock = std::chrono::steady_clock;

struct Group::Waiter {
    explicit Waiter(asio::io_context& io) : wakeup(io, Clock::time_point::max()) {}
    asio::steady_timer wakeup;  // cancelled once the waiter got a process or an error
    std::shared_ptr<Process> process;
    std::weak_ptr<Process> sticky;  // the process a sticky-session request waits for
    std::optional<SessionError> error;
    bool woken = false;
};

namespace {

// Counts a coroutine inside get_session, for finished().
struct InsideCount {
    explicit InsideCount(int& count) : count_(count) { ++count_; }
    ~InsideCount() { --count_; }
    InsideCount(const InsideCount&) = delete;
    InsideCount& operator=(const InsideCount&) = delete;
    int& count_;
};

// The fast path's answer (below), as get_session's awaitable.
asio::awaitable<SessionResult> session_now(Session session) {
    SessionResult result;
    result.session = std::move(session);
    co_return result;
}

}  // namespace

Group::Group(Pool& pool, std::string key, std::shared_ptr<const config::Options> options)
    : io_(pool.io()),
      pool_(pool),
      key_(std::move(key)),
      options_(std::move(options)),
      spawner_(pool.spawner()),
      reaper_(pool.reaper()),
      restart_watcher_(io_, options_->app_root, options_->stat_throttle_rate_seconds,
                       [this] { restart(); }),
      maintenance_timer_(io_),
      retry_timer_(io_) {}

void Group::start() {
    restart_watcher_.start();
    ensure_minimum();
    maintenance_running_ = true;
    asio::co_spawn(io_, maintenance_loop(), asio::detached);
}

bool Group::finished() const {
    std::lock_guard lock(mutex_);  // open_sessions_ ends on every loop
    return shutting_down_ && processes_.empty() && spawning_ == 0 && requests_inside_ == 0 &&
           open_sessions_ == 0 && pins_ == 0 && !maintenance_running_ && !retry_scheduled_ &&
           growth_checks_in_flight_ == 0;
}

std::shared_ptr<Process> Group::least_busy_with_capacity() const {
    std::shared_ptr<Process> best;
    for (const auto& process : processes_) {
        if (process->has_capacity() && (!best || process->sessions < best->sessions))
            best = process;
    }
    return best;
}

std::shared_ptr<Process> Group::find_sticky(std::string_view sticky_id) const {
    if (sticky_id.empty()) return nullptr;
    for (const auto& process : processes_) {
        if (process->ready() && process->sticky_id == sticky_id) return process;
    }
    return nullptr;
}

// The process that may take a queued request now, if any: its sticky process while that one is
// alive (and only when it has room), else the least busy one. Selection runs under mutex_.
std::shared_ptr<Process> Group::process_for(const Waiter& waiter) const {
    if (auto sticky = waiter.sticky.lock(); sticky && sticky->ready())
        return sticky->has_capacity() ? sticky : nullptr;
    return least_busy_with_capacity();
}

asio::awaitable<SessionResult> Group::get_session(OnQueued on_queued, std::string sticky_id) {
    if (std::optional<Session> session = try_take_session(sticky_id))
        return session_now(std::move(*session));
    if (pool_.on_own_loop()) return get_session_here(std::move(on_queued), std::move(sticky_id));
    if (on_queued) {
        // The client's socket is the caller's loop's; the queue is the pool's. Posted in order
        // from the pool's loop, on_queued runs on the caller's loop before get_session's result
        // arrives there, so the caller's watch is still alive.
        on_queued = [caller = pool_.loop(pool_.current_loop()).get_executor(),
                     pool = io_.get_executor(),
                     on_queued = std::move(on_queued)](std::function<void()> abandon) {
            asio::post(caller, [pool, on_queued, abandon = std::move(abandon)] {
                on_queued([pool, abandon] { asio::post(pool, abandon); });
            });
        };
    }
    return asio::co_spawn(io_, get_session_here(std::move(on_queued), std::move(sticky_id)),
                          asio::use_awaitable);
}

// The fast path (issue 17): on any event loop, a request takes a session of a process that has
// room, and gives it back, under the group's mutex and without a trip to the pool's loop.
// Whatever it cannot decide alone (the queue is not empty, no process has room, its sticky
// process is busy, restart.txt is due for a look, a release that must drain, stop or serve the
// queue) goes to the pool's loop (get_session_here, on_session_released_here), which takes the
// same mutex for what it shares with this path. The mutex is never held across a co_await or
// I/O, nor while calling into the Pool or another group (but its atomic count of waiters).
std::optional<Session> Group::try_take_session(std::string_view sticky_id) {
    // restart.txt's throttled look (and tmp/always_restart.txt's restart) run on the pool's loop.
    if (restart_watcher_.wants_request_check(std::chrono::steady_clock::now()) ||
        restart_watcher_.always_restart())
        return std::nullopt;
    std::optional<Session> session;
    bool grow = false;
    {
        std::lock_guard lock(mutex_);
        // A waiting request goes first (and errors, spawns and queueing are the slow path's).
        if (shutting_down_ || !queue_.empty()) return std::nullopt;
        std::shared_ptr<Process> process = find_sticky(sticky_id);
        if (!process) process = least_busy_with_capacity();
        if (!process || !process->has_capacity()) return std::nullopt;  // a busy sticky one too
        requests_.fetch_add(1, std::memory_order_relaxed);
        session = take(std::move(process));
        grow = spawning_ == 0 && saturated();
    }
    if (grow) check_growth();  // the session just taken keeps the group alive
    return session;
}

Session Group::take(std::shared_ptr<Process> process) {
    ++process->sessions;
    ++open_sessions_;
    return Session(this, std::move(process));
}

// Nothing waits on this release: the process stays in rotation, no request is queued that it
// could take, and it is not its --max-requests'th. Otherwise the pool's loop ends the session
// (on_session_released_here) and acts on it.
bool Group::try_release_here(Process& process) {
    Pool& pool = pool_;
    bool idle = false;
    {
        std::lock_guard lock(mutex_);
        if (!process.ready() || !queue_.empty()) return false;
        const int max_requests = options_->max_requests;
        if (max_requests > 0 && process.processed + 1 >= static_cast<uint64_t>(max_requests))
            return false;
        idle = end_session(process) == 0;
    }
    // From here on the group may be gone (its last session ended): only the pool is used.
    if (idle) pool.on_process_idle();  // another app's waiting request may evict it
    return true;
}

int Group::end_session(Process& process) {
    --open_sessions_;
    ++process.processed;
    process.last_used = std::chrono::steady_clock::now();
    return --process.sessions;
}

asio::awaitable<SessionResult> Group::get_session_here(OnQueued on_queued, std::string sticky_id) {
    SessionResult result;
    InsideCount inside(requests_inside_);
    if (shutting_down_) {
        result.error = shutting_down_error();
        co_return result;
    }
    requests_.fetch_add(1, std::memory_order_relaxed);
    restart_watcher_.on_request();
    if (restart_watcher_.always_restart()) restart();

    // Choosing a process and entering the queue are one decision: a release on another loop
    // either comes before it (and its room is seen) or sees the queue (and serves it).
    std::shared_ptr<Process> sticky;
    std::shared_ptr<Waiter> waiter;
    {
        std::lock_guard lock(mutex_);
        // A sticky request waits for its process rather than go elsewhere.
        sticky = find_sticky(sticky_id);
        if (auto process =
                sticky ? (sticky->has_capacity() ? sticky : nullptr) : least_busy_with_capacity()) {
            result.session = take(std::move(process));
        } else if (ready_count() == 0 && spawning_ == 0 && in_failure_backoff() && last_failure_) {
            result.error = last_failure_;
        } else if (options_->max_request_queue_size > 0 &&
                   static_cast<int>(queue_.size()) >= options_->max_request_queue_size) {
            result.error = session_error(SessionErrorKind::queue_full, 503,
                                         "The request queue is full. Please try again later.");
        } else {
            waiter = std::make_shared<Waiter>(io_);
            waiter->sticky = sticky;
            if (options_->max_request_queue_time_seconds > 0)
                waiter->wakeup.expires_after(
                    std::chrono::seconds(options_->max_request_queue_time_seconds));
            queue_.push_back(waiter);
            pool_.count_waiting(1);  // before looking for room (Pool::count_waiting)
        }
    }
    if (result.session) grow_if_saturated();
    if (!waiter) co_return result;
    if (!sticky && spawning_ < static_cast<int>(queue_.size()) && !in_failure_backoff() &&
        may_spawn_making_room())
        spawn_one();
    if (on_queued) {
        std::weak_ptr<Waiter> weak = waiter;
        on_queued([this, weak] {
            if (auto waiter = weak.lock())
                abandon(waiter,
                        session_error(SessionErrorKind::client_gone, 499, "The client went away."));
        });
    }

    asio::error_code error;
    co_await waiter->wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (!waiter->woken) {
        // The timer expired: the request waited longer than --max-request-queue-time.
        abandon(waiter, session_error(SessionErrorKind::queue_timeout, 504,
                                      "The request waited too long for an application process "
                                      "(--max-request-queue-time)."));
    }
    if (waiter->process) {
        result.session = Session(this, std::move(waiter->process));
    } else {
        result.error = std::move(waiter->error);
    }
    co_return result;
}

// In order of arrival; a request waiting for its busy sticky process lets later ones pass.
void Group::serve_queue() {
    std::lock_guard lock(mutex_);
    for (auto it = queue_.begin(); it != queue_.end();) {
        auto process = process_for(**it);
        if (!process) {
            if (auto sticky = (*it)->sticky.lock(); sticky && sticky->ready()) {
                ++it;
                continue;
            }
            return;  // no process has room at all
        }
        auto waiter = std::move(*it);
        it = queue_.erase(it);
        pool_.count_waiting(-1);
        ++process->sessions;
        ++open_sessions_;
        waiter->process = std::move(process);
        waiter->woken = true;
        waiter->wakeup.cancel();
    }
}

void Group::abandon(const std::shared_ptr<Waiter>& waiter, SessionError error) {
    {
        std::lock_guard lock(mutex_);
        auto position = std::find(queue_.begin(), queue_.end(), waiter);
        if (position == queue_.end()) return;  // already served or failed
        queue_.erase(position);
        pool_.count_waiting(-1);
    }
    ++counters_.queue_drops;
    if (error.kind == SessionErrorKind::client_gone)
        log::info("Dropped a queued request: its client went away");
    waiter->error = std::move(error);
    waiter->woken = true;
    waiter->wakeup.cancel();
}

void Group::fail_queue(const SessionError& error) {
    std::lock_guard lock(mutex_);
    for (auto& waiter : queue_) {
        waiter->error = error;
        waiter->woken = true;
        waiter->wakeup.cancel();
    }
    pool_.count_waiting(-static_cast<int>(queue_.size()));
    queue_.clear();
}

void Group::on_session_released(std::shared_ptr<Process> process, std::optional<uint64_t> tunnel) {
    if (!tunnel && try_release_here(*process)) return;
    if (!pool_.on_own_loop()) {
        // The session still counts (open_sessions_), so the group is alive when this runs.
        asio::post(io_, [this, process = std::move(process), tunnel]() mutable {
            on_session_released(std::move(process), tunnel);
        });
        return;
    }
    if (tunnel) process->tunnels.erase(*tunnel);
    on_session_released_here(*process);
}

void Group::add_tunnel(std::shared_ptr<Process> process, uint64_t id, std::function<void()> close) {
    if (pool_.on_own_loop()) {
        process->tunnels.emplace(id, std::move(close));
        return;
    }
    // The tunnel's sockets are its loop's: the pool asks that loop to close it.
    auto close_there = [loop = pool_.loop(pool_.current_loop()).get_executor(),
                        close = std::move(close)] { asio::post(loop, close); };
    asio::post(io_, [this, process = std::move(process), id, close = std::move(close_there)] {
        // Drained (or stopping) before the registration arrived: closed as it would have been.
        if (!process->ready() && options_->abort_websockets_on_process_shutdown) {
            close();
            return;
        }
        process->tunnels.emplace(id, close);
    });
}

void Group::on_session_released_here(Process& process) {
    {
        std::lock_guard lock(mutex_);
        end_session(process);
    }
    if (process.ready() && options_->max_requests > 0 &&
        process.processed >= static_cast<uint64_t>(options_->max_requests)) {
        drain(process, "it handled --max-requests requests");
        ensure_minimum();
    }
    if (process.state == ProcessState::draining && process.sessions == 0) stop_process(process);
    serve_queue();
    // Idle now: if another app waits for room in a full pool, this process may make it.
    if (process.ready() && process.sessions == 0) pool_.on_process_idle();
}

bool Group::needs_process() const {
    if (shutting_down_ || spawning_ > 0 || in_failure_backoff()) return false;
    return std::any_of(queue_.begin(), queue_.end(), [](const auto& waiter) {
        auto sticky = waiter->sticky.lock();
        return !(sticky && sticky->ready());
    });
}

void Group::on_room_available() {
    if (needs_process() && may_spawn_making_room()) spawn_one();
    // An app that lost processes to eviction gets back to --min-instances in free room.
    ensure_minimum();
}

}  // namespace passenger::pool

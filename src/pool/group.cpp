#include "pool/group.hpp"

#include "common/log.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
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
    int error_status = 0;
    std::string error_detail_html;
    bool woken = false;
};

Group::Group(asio::io_context& io, const config::Options& options, spawn::Spawner& spawner,
             spawn::ChildReaper& reaper)
    : io_(io),
      options_(options),
      spawner_(spawner),
      reaper_(reaper),
      restart_watcher_(io, options.app_root, options.stat_throttle_rate_seconds,
                       [this] { restart(); }),
      retry_timer_(io) {}

void Group::start() {
    restart_watcher_.start();
    ensure_minimum();
    asio::co_spawn(io_, maintenance_loop(), asio::detached);
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
        if (process->alive && process->sticky_id == sticky_id) return process;
    }
    return nullptr;
}

// The process that may take a queued request now, if any: its sticky process while that one is
// alive (and only when it has room), else the least busy one.
std::shared_ptr<Process> Group::process_for(const Waiter& waiter) const {
    if (auto sticky = waiter.sticky.lock(); sticky && sticky->alive)
        return sticky->has_capacity() ? sticky : nullptr;
    return least_busy_with_capacity();
}

asio::awaitable<SessionResult> Group::get_session(OnQueued on_queued, std::string sticky_id) {
    SessionResult result;
    if (shutting_down_) {
        result.error_status = 503;
        result.error_detail_html = "<p>The server is shutting down.</p>";
        co_return result;
    }
    ++counters_.requests;
    restart_watcher_.on_request();
    if (restart_watcher_.always_restart()) restart();

    // A sticky request waits for its process rather than go elsewhere.
    std::shared_ptr<Process> sticky = find_sticky(sticky_id);
    if (auto process =
            sticky ? (sticky->has_capacity() ? sticky : nullptr) : least_busy_with_capacity()) {
        ++process->sessions;
        result.session = Session(this, std::move(process));
        grow_if_saturated();
        co_return result;
    }
    if (ready_count() == 0 && spawning_ == 0 && in_failure_backoff()) {
        result.error_status = 500;
        result.error_detail_html = last_failure_html_;
        co_return result;
    }
    if (options_.max_request_queue_size > 0 &&
        static_cast<int>(queue_.size()) >= options_.max_request_queue_size) {
        result.error_status = 503;
        result.error_detail_html = "<p>The request queue is full. Please try again later.</p>";
        co_return result;
    }

    auto waiter = std::make_shared<Waiter>(io_);
    waiter->sticky = sticky;
    if (options_.max_request_queue_time_seconds > 0)
        waiter->wakeup.expires_after(std::chrono::seconds(options_.max_request_queue_time_seconds));
    queue_.push_back(waiter);
    if (!sticky && spawning_ < static_cast<int>(queue_.size()) && may_spawn() &&
        !in_failure_backoff())
        spawn_one();
    if (on_queued) {
        std::weak_ptr<Waiter> weak = waiter;
        on_queued([this, weak] {
            if (auto waiter = weak.lock())
                abandon(waiter, client_gone_status, "<p>The client went away.</p>");
        });
    }

    asio::error_code error;
    co_await waiter->wakeup.async_wait(asio::redirect_error(asio::use_awaitable, error));
    if (!waiter->woken) {
        // The timer expired: the request waited longer than --max-request-queue-time.
        abandon(waiter, 504,
                "<p>The request waited too long for an application process "
                "(--max-request-queue-time).</p>");
    }
    if (waiter->process) {
        result.session = Session(this, std::move(waiter->process));
    } else {
        result.error_status = waiter->error_status;
        result.error_detail_html = std::move(waiter->error_detail_html);
    }
    co_return result;
}

// In order of arrival; a request waiting for its busy sticky process lets later ones pass.
void Group::serve_queue() {
    for (auto it = queue_.begin(); it != queue_.end();) {
        auto process = process_for(**it);
        if (!process) {
            if (auto sticky = (*it)->sticky.lock(); sticky && sticky->alive) {
                ++it;
                continue;
            }
            return;  // no process has room at all
        }
        auto waiter = std::move(*it);
        it = queue_.erase(it);
        ++process->sessions;
        waiter->process = std::move(process);
        waiter->woken = true;
        waiter->wakeup.cancel();
    }
}

void Group::abandon(const std::shared_ptr<Waiter>& waiter, int status, std::string detail_html) {
    auto position = std::find(queue_.begin(), queue_.end(), waiter);
    if (position == queue_.end()) return;  // already served or failed
    queue_.erase(position);
    ++counters_.queue_drops;
    if (status == client_gone_status) log::info("Dropped a queued request: its client went away");
    waiter->error_status = status;
    waiter->error_detail_html = std::move(detail_html);
    waiter->woken = true;
    waiter->wakeup.cancel();
}

void Group::fail_queue(int status, const std::string& detail_html) {
    for (auto& waiter : queue_) {
        waiter->error_status = status;
        waiter->error_detail_html = detail_html;
        waiter->woken = true;
        waiter->wakeup.cancel();
    }
    queue_.clear();
}

void Group::on_session_released(Process& process) {
    --process.sessions;
    ++process.processed;
    process.last_used = Clock::now();
    if (process.alive && options_.max_requests > 0 &&
        process.processed >= static_cast<uint64_t>(options_.max_requests)) {
        drain(process, "it handled --max-requests requests");
        ensure_minimum();
    }
    if (process.draining && process.sessions == 0 && !process.stop_requested) stop_process(process);
    serve_queue();
}

// Node processes claim unlimited concurrency, so "no process has capacity" never happens for
// them; instead the app grows when every process is saturated (its event loop busy: CPU near a
// full core, or many requests in flight) and the pool may still grow.
void Group::grow_if_saturated() {
    if (spawning_ > 0 || !may_spawn()) return;
    int ready = 0;
    for (const auto& process : processes_) {
        if (!process->alive) continue;
        if (process->max_sessions != 0) return;  // limited concurrency grows through the queue
        bool busy_cpu = options_.saturation_cpu_percent > 0 &&
                        process->busy_percent >= options_.saturation_cpu_percent;
        bool busy_sessions =
            options_.saturation_sessions > 0 && process->sessions >= options_.saturation_sessions;
        if (!busy_cpu && !busy_sessions) return;
        ++ready;
    }
    if (ready == 0) return;
    log::notice("All {} process(es) are saturated; spawning one more", ready);
    spawn_one();
}

}  // namespace passenger::pool

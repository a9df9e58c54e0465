// A Group's periodic work, once a second: CPU and memory of each process (for saturation,
// --memory-limit and status output), idle reaping (--pool-idle-time); and growing a saturated
// Node app, checked on requests too.
#include "common/log.hpp"
#include "pool/group.hpp"
#include "pool/pool.hpp"

#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace passenger::pool {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

asio::awaitable<void> Group::maintenance_loop() {
    auto last = Clock::now();
    while (!shutting_down_) {
        maintenance_timer_.expires_after(1s);
        asio::error_code error;
        co_await maintenance_timer_.async_wait(asio::redirect_error(asio::use_awaitable, error));
        if (shutting_down_) break;
        auto now = Clock::now();
        co_await sample_metrics(std::chrono::duration<double>(now - last).count());
        if (shutting_down_) break;
        last = now;
        growth_check_posted_ = false;  // other loops may ask again (Group::check_growth)
        enforce_memory_limit();
        reap_idle_processes();
        // A process busy with one long CPU-bound request gets no new request to notice it.
        bool serving = std::any_of(processes_.begin(), processes_.end(),
                                   [](const auto& p) { return p->ready() && p->sessions > 0; });
        if (serving) grow_if_saturated();
    }
    maintenance_running_ = false;  // the last use of `this` (finished() waits for it)
}

asio::awaitable<void> Group::sample_metrics(double elapsed_seconds) {
    std::vector<pid_t> pids;
    for (auto& process : processes_) pids.push_back(process->pid);
    const auto& members = members_.of(pids, Clock::now());
    // Apps of other users: their memory is read by the spawn helper (root).
    std::vector<pid_t> all_members;
    for (const auto& [leader, group_members] : members)
        all_members.insert(all_members.end(), group_members.begin(), group_members.end());
    std::optional<std::map<pid_t, uint64_t>> memory =
        co_await spawner_.private_memory_kb(std::move(all_members));
    for (auto& process : processes_) {
        auto found = members.find(process->pid);
        sample_process_group(*process,
                             found != members.end() ? found->second : std::vector<pid_t>{},
                             elapsed_seconds, memory ? &*memory : nullptr);
    }
}

void Group::enforce_memory_limit() {
    if (options_->memory_limit_mb <= 0) return;
    const uint64_t limit_kb = static_cast<uint64_t>(options_->memory_limit_mb) * 1024;
    bool replaced = false;
    for (auto& process : processes_) {
        if (process->ready() && process->private_memory_kb > limit_kb) {
            log::warn("App process {} uses {} MB of private memory, more than --memory-limit {} MB",
                      process->pid, process->private_memory_kb / 1024, options_->memory_limit_mb);
            drain(*process, "it exceeded --memory-limit");
            replaced = true;
        }
    }
    if (replaced) ensure_minimum();
}

void Group::reap_idle_processes() {
    if (options_->pool_idle_time_seconds <= 0) return;
    const auto idle_limit = std::chrono::seconds(options_->pool_idle_time_seconds);
    const auto now = Clock::now();
    for (auto& process : processes_) {
        if (ready_count() <= wanted_minimum()) return;
        if (process->ready() && process->sessions == 0 &&
            now - process->last_used.load() >= idle_limit)
            drain(*process, "it was idle longer than --pool-idle-time");
    }
}

// Node processes claim unlimited concurrency, so "no process has capacity" never happens for
// them; instead the app grows when every process is saturated (its event loop busy: CPU near a
// full core, or many requests in flight) and the pool may still grow.
void Group::grow_if_saturated() {
    if (spawning_ > 0 || !may_spawn() || !saturated()) return;
    log::notice("All {} process(es) are saturated; spawning one more", ready_count());
    spawn_one();
}

// Every ready process (at least one, all of unlimited concurrency) is saturated. Reads only
// atomics and what the caller's hold of mutex_ (or the pool's loop) keeps still.
bool Group::saturated() const {
    int ready = 0;
    for (const auto& process : processes_) {
        if (!process->ready()) continue;
        if (process->max_sessions != 0)
            return false;  // limited concurrency grows through the queue
        bool busy_cpu = options_->saturation_cpu_percent > 0 &&
                        process->busy_percent.load(std::memory_order_relaxed) >=
                            options_->saturation_cpu_percent;
        bool busy_sessions =
            options_->saturation_sessions > 0 && process->sessions >= options_->saturation_sessions;
        if (!busy_cpu && !busy_sessions) return false;
        ++ready;
    }
    return ready > 0;
}

// On the pool's loop at once; from another loop posted, at most once per maintenance tick: in a
// full pool every request finds the group saturated, and the pool's loop decides the same each
// time (its own requests and the tick still check on every request and every second).
void Group::check_growth() {
    if (pool_.on_own_loop()) {
        grow_if_saturated();
        return;
    }
    if (growth_check_posted_.exchange(true)) return;
    ++growth_checks_in_flight_;
    asio::post(io_, [this] {
        grow_if_saturated();
        --growth_checks_in_flight_;
    });
}

}  // namespace passenger::pool

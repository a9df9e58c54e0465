// A Group's periodic work, once a second: CPU and memory of each process (for saturation,
// --memory-limit and status output), idle reaping (--pool-idle-time).
#include "common/log.hpp"
#include "pool/group.hpp"

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
        if (process->ready() && process->sessions == 0 && now - process->last_used >= idle_limit)
            drain(*process, "it was idle longer than --pool-idle-time");
    }
}

}  // namespace passenger::pool

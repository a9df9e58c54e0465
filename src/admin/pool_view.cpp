#include "admin/pool_view.hpp"

#include "common/log.hpp"
#include "pool/pool.hpp"

namespace passenger::admin {
namespace {

double seconds_between(std::chrono::steady_clock::time_point then,
                       std::chrono::steady_clock::time_point now) {
    return std::chrono::duration<double>(now - then).count();
}

}  // namespace

std::vector<GroupSnapshot> take_snapshots(const pool::Pool& pool) {
    std::vector<GroupSnapshot> snapshots;
    for (const pool::Group* group : pool.groups()) snapshots.push_back(take_snapshot(*group));
    return snapshots;
}

bool restart_app_in(pool::Pool& pool, const std::string& app_root) {
    for (pool::Group* group : pool.groups()) {
        if (group->options().app_root == app_root) {
            log::notice("Restarting {} (asked through the admin socket)", app_root);
            group->restart();
            return true;
        }
    }
    return false;
}

GroupSnapshot take_snapshot(const pool::Group& group) {
    const auto now = std::chrono::steady_clock::now();
    const pool::GroupCounters& counters = group.counters();
    GroupSnapshot snapshot;
    snapshot.app_root = group.options().app_root;
    snapshot.environment = group.options().environment;
    snapshot.queue_length = group.queue_length();
    snapshot.spawning = group.spawning();
    snapshot.spawns_total = counters.spawns;
    snapshot.spawn_failures_total = counters.spawn_failures;
    snapshot.crashes_total = counters.crashes;
    snapshot.restarts_total = counters.restarts;
    snapshot.requests_total = counters.requests;
    snapshot.last_error = group.last_error();
    for (const auto& process : group.processes()) {
        snapshot.processes.push_back({
            .pid = process->pid,
            .state = std::string(pool::name_of(process->state)),
            .sessions = process->sessions,
            .processed = process->processed,
            .uptime_seconds = seconds_between(process->spawned_at, now),
            .idle_seconds = seconds_between(process->last_used, now),
            .cpu_percent = process->cpu_percent,
            .private_memory_kb = process->private_memory_kb,
            .generation = process->generation,
            .endpoint = spawn::describe(process->endpoint),
        });
    }
    return snapshot;
}

}  // namespace passenger::admin

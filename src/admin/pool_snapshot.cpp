#include "admin/pool_snapshot.hpp"

#include <nlohmann/json.hpp>

namespace passenger::admin {
namespace detail {
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProcessSnapshot, pid, state, sessions, processed,
                                                uptime_seconds, idle_seconds, cpu_percent,
                                                private_memory_kb, generation, endpoint)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(GroupSnapshot, app_root, environment, queue_length,
                                                spawning, spawns_total, spawn_failures_total,
                                                crashes_total, restarts_total, requests_total,
                                                last_error, processes)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(ProtocolSnapshot, protocol, scheme, connections,
                                                requests_total)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(PoolSnapshot, version, instance, max_pool_size,
                                                top_level_queue, requests_total, requests_in_flight,
                                                protocols, groups)
}  // namespace detail

void to_json(nlohmann::json& json, const ProcessSnapshot& process) {
    detail::to_json(json, process);
}
void from_json(const nlohmann::json& json, ProcessSnapshot& process) {
    detail::from_json(json, process);
}
void to_json(nlohmann::json& json, const ProtocolSnapshot& protocol) {
    detail::to_json(json, protocol);
}
void from_json(const nlohmann::json& json, ProtocolSnapshot& protocol) {
    detail::from_json(json, protocol);
}
void to_json(nlohmann::json& json, const GroupSnapshot& group) {
    detail::to_json(json, group);
}
void from_json(const nlohmann::json& json, GroupSnapshot& group) {
    detail::from_json(json, group);
}
void to_json(nlohmann::json& json, const PoolSnapshot& pool) {
    detail::to_json(json, pool);
    json["process_count"] = pool.process_count();
}
void from_json(const nlohmann::json& json, PoolSnapshot& pool) {
    detail::from_json(json, pool);
}

size_t PoolSnapshot::process_count() const {
    size_t count = 0;
    for (const GroupSnapshot& group : groups) count += group.processes.size();
    return count;
}

}  // namespace passenger::admin

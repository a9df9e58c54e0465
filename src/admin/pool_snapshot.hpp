// What the admin API reports about the pool, as plain values: built from the live pool in the
// core (`take_snapshot`), sent as JSON, and read back by passenger-status to format it. Times are
// relative (seconds ago), so the client's clock does not matter.
#pragma once

#include <sys/types.h>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace passenger::pool {
class Group;
}

namespace passenger::admin {

struct ProcessSnapshot {
    pid_t pid = 0;
    std::string state;  // ready, draining, stopping, gone (pool::name_of)
    int sessions = 0;   // requests in flight
    uint64_t processed = 0;
    double uptime_seconds = 0;
    double idle_seconds = 0;  // since the last request finished (or since the spawn)
    double cpu_percent = 0;   // of one core, over the last sampling interval
    uint64_t private_memory_kb = 0;
    uint64_t generation = 0;
    std::string endpoint;
};

struct GroupSnapshot {
    std::string app_root;
    std::string environment;
    size_t queue_length = 0;
    int spawning = 0;
    uint64_t spawns_total = 0;
    uint64_t spawn_failures_total = 0;
    uint64_t crashes_total = 0;
    uint64_t restarts_total = 0;
    uint64_t requests_total = 0;
    std::string last_error;
    std::vector<ProcessSnapshot> processes;
};

// The front end's client connections and requests by protocol (admin::ClientProtocol).
struct ProtocolSnapshot {
    std::string protocol;  // "http/1.1" or "h2"
    std::string scheme;    // "http" or "https"
    uint64_t connections = 0;
    uint64_t requests_total = 0;
};

struct PoolSnapshot {
    std::string version;
    std::string instance;  // the registry name
    int max_pool_size = 0;
    size_t top_level_queue = 0;   // requests not yet assigned to a group (always 0 so far)
    uint64_t requests_total = 0;  // request heads read by the front end
    size_t requests_in_flight = 0;
    std::vector<ProtocolSnapshot> protocols;  // http/1.1 over http, then https, then h2
    std::vector<GroupSnapshot> groups;

    size_t process_count() const;
};

void to_json(nlohmann::json& json, const ProcessSnapshot& process);
void from_json(const nlohmann::json& json, ProcessSnapshot& process);
void to_json(nlohmann::json& json, const GroupSnapshot& group);
void from_json(const nlohmann::json& json, GroupSnapshot& group);
void to_json(nlohmann::json& json, const ProtocolSnapshot& protocol);
void from_json(const nlohmann::json& json, ProtocolSnapshot& protocol);
void to_json(nlohmann::json& json, const PoolSnapshot& pool);
void from_json(const nlohmann::json& json, PoolSnapshot& pool);

// The state of one group right now (pool_view.cpp, the one file that reads pool internals).
GroupSnapshot take_snapshot(const pool::Group& group);

}  // namespace passenger::admin

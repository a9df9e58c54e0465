// One running app process, as the pool sees it.
#pragma once

#include "spawn/app_endpoint.hpp"
#include "spawn/output_forwarder.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pool/process_metrics.hpp"
#include "pool/sticky_id.hpp"

namespace passenger::pool {

using spawn::AppSocket;

struct Process {
    pid_t pid = -1;
    std::string sticky_id = new_sticky_id();  // what sticky-session cookies name (never the PID)
    spawn::AppEndpoint endpoint;              // where it listens
    std::shared_ptr<spawn::OutputForwarder> output;
    uint64_t generation = 0;  // the group's generation it was spawned for (restarts raise it)
    std::chrono::steady_clock::time_point spawned_at;
    std::chrono::steady_clock::time_point last_used;

    int sessions = 0;        // requests in flight
    int max_sessions = 0;    // 0 = unlimited (Node.js)
    uint64_t processed = 0;  // requests finished
    // Sampled about once a second by the group (pool/process_metrics), over the whole process
    // group: a wrapper (`meteor run`, `/bin/sh -c`) and the app it started count together.
    double cpu_percent = 0;  // of one core, over the last sampling interval
    uint64_t private_memory_kb = 0;
    std::optional<CpuTimes> last_cpu_sample;
    double busy_percent = 0;  // running or waiting to run, over the last interval (saturation)
    std::map<pid_t, uint64_t> last_runnable_ns;  // per member of the group

    bool alive = true;            // takes new requests; false once draining, broken or exited
    bool draining = false;        // finishes its requests, then stops (restart, limits, idle)
    bool stop_requested = false;  // the pool asked it to stop, so its exit is no crash
    struct IdleConnection {
        AppSocket socket;
        std::chrono::steady_clock::time_point since;
    };
    std::vector<IdleConnection> idle_connections;  // kept alive, most recently returned last
    // Open tunnels (WebSockets, any Upgrade), each a session: the function closes it. A process
    // that drains or stops closes them (unless --no-abort-websockets-on-process-shutdown).
    std::map<uint64_t, std::function<void()>> tunnels;
    uint64_t next_tunnel_id = 0;

    bool has_capacity() const { return alive && (max_sessions == 0 || sessions < max_sessions); }
};

}  // namespace passenger::pool

// One running app process, as the pool sees it.
#pragma once

#include "spawn/output_forwarder.hpp"

#include <sys/types.h>
#include "spawn/app_endpoint.hpp"

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace passenger::pool {

using spawn::AppSocket;

struct Process {
    pid_t pid = -1;
    spawn::AppEndpoint endpoint;  // where it listens
    std::shared_ptr<spawn::OutputForwarder> output;
    std::chrono::steady_clock::time_point spawned_at;
    std::chrono::steady_clock::time_point last_used;

    int sessions = 0;        // requests in flight
    int max_sessions = 0;    // 0 = unlimited (Node.js)
    uint64_t processed = 0;  // requests finished
    // Sampled about once a second by the group (pool/process_metrics).
    double cpu_percent = 0;  // of one core, over the last sampling interval
    uint64_t private_memory_kb = 0;
    bool alive = true;            // takes requests; false once it exited, broke or is being stopped
    bool stop_requested = false;  // the pool asked it to stop, so its exit is no crash
    std::vector<AppSocket> idle_connections;  // kept-alive connections to the app, most recent last

    bool has_capacity() const { return alive && (max_sessions == 0 || sessions < max_sessions); }
};

}  // namespace passenger::pool

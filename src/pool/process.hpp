// One running app process, as the pool sees it.
#pragma once

#include "spawn/app_endpoint.hpp"
#include "spawn/output_forwarder.hpp"

#include <sys/types.h>

#include <atomic>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pool/process_metrics.hpp"
#include "pool/sticky_id.hpp"

namespace passenger::pool {

using spawn::AppSocket;

// Where a process is in its life. Exactly one at a time; each transition is one assignment.
// A spawn in flight has no Process yet (no pid until it listens): Group::spawning() counts those.
enum class ProcessState {
    ready,     // takes new requests
    draining,  // replaced (restart, limits, idleness, eviction): finishes its requests, then stops
    stopping,  // the pool sent it SIGTERM or SIGKILL: its exit is expected, no crash
    gone,      // unreachable (killed as broken) or exited: its exit, if still to come, is a crash
};

// As passenger-status shows it.
constexpr std::string_view name_of(ProcessState state) {
    switch (state) {
        case ProcessState::ready:
            return "ready";
        case ProcessState::draining:
            return "draining";
        case ProcessState::stopping:
            return "stopping";
        case ProcessState::gone:
            return "gone";
    }
    return "unknown";
}

struct Process {
    pid_t pid = -1;
    std::string sticky_id = new_sticky_id();  // what sticky-session cookies name (never the PID)
    spawn::AppEndpoint endpoint;              // where it listens
    std::shared_ptr<spawn::OutputForwarder> output;
    uint64_t generation = 0;  // the group's generation it was spawned for (restarts raise it)
    std::chrono::steady_clock::time_point spawned_at;

    // Taken and given back on every loop (Group's fast path, under its mutex): atomic so that the
    // pool's loop and passenger-status may read them without it.
    std::atomic<std::chrono::steady_clock::time_point> last_used{};
    std::atomic<int> sessions = 0;        // requests in flight
    std::atomic<uint64_t> processed = 0;  // requests finished
    int max_sessions = 0;                 // 0 = unlimited (Node.js); set before it is listed
    // Sampled about once a second by the group (pool/process_metrics), over the whole process
    // group: a wrapper (`meteor run`, `/bin/sh -c`) and the app it started count together.
    double cpu_percent = 0;  // of one core, over the last sampling interval
    uint64_t private_memory_kb = 0;
    std::optional<CpuTimes> last_cpu_sample;
    // Running or waiting to run, over the last interval (saturation); read on every loop.
    std::atomic<double> busy_percent = 0;
    std::map<pid_t, uint64_t> last_runnable_ns;  // per member of the group

    // Written under Group's mutex (the fast path picks ready ones): by the pool's loop, and
    // ready -> gone by any loop that found the process unreachable (Group::on_process_unreachable);
    // read by the proxy on every loop (atomic for that).
    std::atomic<ProcessState> state = ProcessState::ready;
    // Killed because a request on it ran past --max-request-time: its other requests in flight
    // failed for that reason too (504), not because the app broke (502).
    std::atomic<bool> killed_for_request_time = false;
    // When a connection to it last broke mid-request (steady clock, ns; 0: never), from any loop.
    // Until a second after that, kept-alive connections are checked before reuse even when
    // recent (Session::take_idle_connection): a process SIGKILLed with requests in flight frees
    // their slots before its exit is reaped, and its recent connections are dead.
    std::atomic<int64_t> connection_broke_ns = 0;
    struct IdleConnection {
        AppSocket socket;
        std::chrono::steady_clock::time_point since;
    };
    // Kept-alive connections, most recently returned last: one list per event loop, touched only
    // by that loop (a socket belongs to the loop that opened it). Aligned apart so that two
    // loops returning connections at once do not share a cache line.
    struct alignas(64) IdleConnections {
        std::vector<IdleConnection> connections;
    };
    std::vector<IdleConnections> idle_connections = std::vector<IdleConnections>(1);
    // Open tunnels (WebSockets, any Upgrade), each a session: the function closes it. A process
    // that drains or stops closes them (unless --no-abort-websockets-on-process-shutdown).
    std::map<uint64_t, std::function<void()>> tunnels;  // the pool's loop only
    std::atomic<uint64_t> next_tunnel_id = 0;

    bool ready() const { return state == ProcessState::ready; }
    // Counts against --max-pool-size (draining and stopping processes do not).
    bool has_capacity() const { return ready() && (max_sessions == 0 || sessions < max_sessions); }
};

}  // namespace passenger::pool

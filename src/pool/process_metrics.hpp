// CPU and memory of a process, read from /proc (Linux).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>

namespace passenger::pool {

struct CpuTimes {
    uint64_t ticks = 0;  // user + system time of the process, in clock ticks
};

// The process's CPU time so far; std::nullopt when it is gone.
std::optional<CpuTimes> read_cpu_times(pid_t pid);

// Private dirty memory (KiB) from /proc/PID/smaps_rollup: what the process alone costs and
// could not drop, shared libraries, copy-on-write pages and clean file pages excluded. The same
// figure as Passenger's and passenger-memory-stats' "Private".
std::optional<uint64_t> read_private_memory_kb(pid_t pid);

// Nanoseconds the process's main thread (a Node app's event loop) spent running or waiting
// to run, from /proc/PID/schedstat. Unlike CPU time this measures demand: a busy event loop on
// a loaded machine waits for a core instead of running, and still counts as busy.
std::optional<uint64_t> read_runnable_ns(pid_t pid);

// Percent of one core used between two samples taken `elapsed_seconds` apart.
double cpu_percent(CpuTimes before, CpuTimes after, double elapsed_seconds);

}  // namespace passenger::pool

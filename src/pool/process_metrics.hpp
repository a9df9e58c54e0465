// CPU and memory of a process, read from /proc (Linux). An app process counts with everything
// in its process group: a `meteor run` or `/bin/sh -c` wrapper is the process the pool started,
// but the app is its child (app processes lead their own group: spawn/child_process).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

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

// One pass over /proc: the live members of each process group in `group_ids`, leader first when
// it is alive. A group with no live member is absent.
std::unordered_map<pid_t, std::vector<pid_t>> process_group_members(
    const std::vector<pid_t>& group_ids);

// process_group_members() reads the stat file of every process on the machine (three syscalls
// each: a host with thousands of processes would spend milliseconds a second on it), so a group
// keeps its answer: it scans again when the groups it asks for changed (a process became ready
// or left) and otherwise every `rescan_interval`, for children an app forks or loses meanwhile.
// A member that exited in between is skipped by the sampling (its /proc files are gone).
class ProcessGroupMembers {
  public:
    using Clock = std::chrono::steady_clock;
    using Members = std::unordered_map<pid_t, std::vector<pid_t>>;
    static constexpr std::chrono::seconds rescan_interval{10};

    const Members& of(const std::vector<pid_t>& group_ids, Clock::time_point now);

  private:
    Members members_;
    std::vector<pid_t> group_ids_;
    std::optional<Clock::time_point> scanned_;
};

struct Process;
// Samples `process` as the sum of `members` (its process group): CPU time and private memory
// add up; busy_percent is the busiest member's (saturation means one event loop is full).
// `memory_kb`: private memory per member as the spawn helper read it; null: read /proc here.
void sample_process_group(Process& process, const std::vector<pid_t>& members,
                          double elapsed_seconds,
                          const std::map<pid_t, uint64_t>* memory_kb = nullptr);

}  // namespace passenger::pool

#include "pool/process_metrics.hpp"

#include "pool/process.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <string>

namespace passenger::pool {

std::optional<CpuTimes> read_cpu_times(pid_t pid) {
    std::ifstream file(fmt::format("/proc/{}/stat", pid));
    std::string content;
    if (!std::getline(file, content)) return std::nullopt;
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    size_t close = content.rfind(')');
    if (close == std::string::npos) return std::nullopt;
    unsigned long long user = 0, system = 0;
    // Fields after ')': state(3) ... utime(14) stime(15).
    if (std::sscanf(content.c_str() + close + 1,
                    " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &user, &system) != 2)
        return std::nullopt;
    return CpuTimes{user + system};
}

std::optional<uint64_t> read_private_memory_kb(pid_t pid) {
    std::ifstream file(fmt::format("/proc/{}/smaps_rollup", pid));
    if (!file) return std::nullopt;
    std::string line;
    uint64_t total = 0;
    bool found = false;
    while (std::getline(file, line)) {
        unsigned long long kb = 0;
        if (std::sscanf(line.c_str(), "Private_Dirty: %llu kB", &kb) == 1) {
            total += kb;
            found = true;
        }
    }
    if (!found) return std::nullopt;
    return total;
}

std::optional<uint64_t> read_runnable_ns(pid_t pid) {
    std::ifstream file(fmt::format("/proc/{}/schedstat", pid));
    unsigned long long running = 0, waiting = 0;
    if (!(file >> running >> waiting)) return std::nullopt;
    return running + waiting;
}

double cpu_percent(CpuTimes before, CpuTimes after, double elapsed_seconds) {
    static const double ticks_per_second = static_cast<double>(::sysconf(_SC_CLK_TCK));
    if (elapsed_seconds <= 0 || after.ticks < before.ticks) return 0;
    return 100.0 * static_cast<double>(after.ticks - before.ticks) / ticks_per_second /
           elapsed_seconds;
}

namespace {

// The process group of `pid` from /proc/PID/stat (field 5), without the allocations of a stream:
// this runs for every process on the machine once a second.
std::optional<pid_t> read_process_group(const char* pid) {
    char path[64];
    std::snprintf(path, sizeof path, "/proc/%s/stat", pid);
    int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return std::nullopt;
    char content[512];
    ssize_t length = ::read(fd, content, sizeof content - 1);
    ::close(fd);
    if (length <= 0) return std::nullopt;
    content[length] = '\0';
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const char* close = std::strrchr(content, ')');
    char state = 0;
    int parent = 0, group = 0;
    if (close == nullptr || std::sscanf(close + 1, " %c %d %d", &state, &parent, &group) != 3)
        return std::nullopt;
    if (state == 'Z' || state == 'X') return std::nullopt;  // exited, not yet reaped
    return group;
}

}  // namespace

std::unordered_map<pid_t, std::vector<pid_t>> process_group_members(
    const std::vector<pid_t>& group_ids) {
    std::unordered_map<pid_t, std::vector<pid_t>> members;
    if (group_ids.empty()) return members;
    std::unique_ptr<DIR, int (*)(DIR*)> proc(::opendir("/proc"), ::closedir);
    if (!proc) return members;
    while (dirent* entry = ::readdir(proc.get())) {
        if (entry->d_name[0] < '1' || entry->d_name[0] > '9') continue;  // not a pid
        std::optional<pid_t> group = read_process_group(entry->d_name);
        if (!group || std::find(group_ids.begin(), group_ids.end(), *group) == group_ids.end())
            continue;
        auto pid = static_cast<pid_t>(std::strtol(entry->d_name, nullptr, 10));
        auto& list = members[*group];
        list.push_back(pid);
        if (pid == *group) std::swap(list.front(), list.back());
    }
    return members;
}

const ProcessGroupMembers::Members& ProcessGroupMembers::of(const std::vector<pid_t>& group_ids,
                                                            Clock::time_point now) {
    if (!scanned_ || group_ids != group_ids_ || now - *scanned_ >= rescan_interval) {
        members_ = process_group_members(group_ids);
        group_ids_ = group_ids;
        scanned_ = now;
    }
    return members_;
}

void sample_process_group(Process& process, const std::vector<pid_t>& members,
                          double elapsed_seconds, const std::map<pid_t, uint64_t>* memory_kb) {
    std::optional<CpuTimes> cpu;
    std::optional<uint64_t> memory;
    std::map<pid_t, uint64_t> runnable_ns;
    double busiest = 0;
    for (pid_t member : members) {
        if (auto times = read_cpu_times(member)) {
            cpu = CpuTimes{(cpu ? cpu->ticks : 0) + times->ticks};
        }
        if (memory_kb != nullptr) {
            if (auto it = memory_kb->find(member); it != memory_kb->end())
                memory = memory.value_or(0) + it->second;
        } else if (auto kb = read_private_memory_kb(member)) {
            memory = memory.value_or(0) + *kb;
        }
        auto runnable = read_runnable_ns(member);
        if (!runnable) continue;
        runnable_ns[member] = *runnable;
        auto before = process.last_runnable_ns.find(member);
        if (before != process.last_runnable_ns.end() && *runnable >= before->second) {
            double busy =
                100.0 * static_cast<double>(*runnable - before->second) / 1e9 / elapsed_seconds;
            busiest = std::max(busiest, busy);
        }
    }
    // A member that exited takes its CPU time along: the sum may shrink, which counts as 0.
    if (cpu && process.last_cpu_sample)
        process.cpu_percent = cpu_percent(*process.last_cpu_sample, *cpu, elapsed_seconds);
    process.last_cpu_sample = cpu;
    process.busy_percent = busiest;
    process.last_runnable_ns = std::move(runnable_ns);
    if (memory) process.private_memory_kb = *memory;
}

}  // namespace passenger::pool

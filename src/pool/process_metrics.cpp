#include "pool/process_metrics.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
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

}  // namespace passenger::pool

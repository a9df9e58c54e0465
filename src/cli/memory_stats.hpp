// passenger-memory-stats' data: read from /proc alone (never from the server), so it answers even
// when the core hangs or is stopped.
#pragma once

#include "admin/instance_registry.hpp"

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace passenger::cli {

struct ProcessMemory {
    pid_t pid = 0;
    pid_t ppid = 0;
    std::string comm;                          // /proc/PID/comm-like name from /proc/PID/stat
    std::string command;                       // the command line, arguments joined by spaces
    std::string exe;                           // /proc/PID/exe, "" when unreadable
    std::optional<uint64_t> vm_size_kb;        // VmSize from /proc/PID/status
    std::optional<uint64_t> private_dirty_kb;  // Private_Dirty from /proc/PID/smaps_rollup
};

// Every process in /proc (kernel threads excluded), without memory figures.
std::vector<ProcessMemory> read_process_table();
// Fills vm_size_kb and private_dirty_kb (left empty when unreadable).
void read_memory(ProcessMemory& process);

struct MemorySection {
    std::string title;  // "Nginx processes"
    std::vector<ProcessMemory> processes;
};

// Sorts the table into sections: nginx and Apache (only when present), Passenger (the watchdogs
// and cores of `instances`, and processes of the binary `self_exe` running `start` or `core`),
// and the app processes (everything below a core). Memory is read for the listed processes only.
std::vector<MemorySection> memory_sections(std::vector<ProcessMemory> table,
                                           const std::vector<admin::Instance>& instances,
                                           const std::string& self_exe, pid_t self_pid);

std::string format_memory_sections(const std::vector<MemorySection>& sections);

}  // namespace passenger::cli

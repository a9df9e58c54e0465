#include "cli/memory_stats.hpp"

#include "cli/status_format.hpp"

#include <dirent.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>

namespace passenger::cli {
namespace {

std::string read_file(const std::string& path) {
    std::ifstream file(path, std::ios::binary);
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

std::string read_link(const std::string& path) {
    char buffer[PATH_MAX];
    ssize_t length = ::readlink(path.c_str(), buffer, sizeof buffer - 1);
    if (length <= 0) return {};
    std::string target(buffer, static_cast<size_t>(length));
    // A binary replaced since the process started (a rebuild) still is that binary.
    constexpr std::string_view deleted = " (deleted)";
    if (target.ends_with(deleted)) target.resize(target.size() - deleted.size());
    return target;
}

std::vector<std::string> split_cmdline(const std::string& raw) {
    std::vector<std::string> words;
    std::string word;
    for (char c : raw) {
        if (c == '\0') {
            words.push_back(std::move(word));
            word.clear();
        } else {
            word += c;
        }
    }
    if (!word.empty()) words.push_back(std::move(word));
    return words;
}

std::optional<uint64_t> field_kb(const std::string& text, std::string_view name) {
    size_t at = 0;
    while ((at = text.find(name, at)) != std::string::npos) {
        if (at == 0 || text[at - 1] == '\n') {
            unsigned long long kb = 0;
            if (std::sscanf(text.c_str() + at + name.size(), ": %llu kB", &kb) == 1) return kb;
        }
        at += name.size();
    }
    return std::nullopt;
}

bool is_our_server(const ProcessMemory& process, const std::string& self_exe) {
    if (self_exe.empty() || process.exe != self_exe) return false;
    std::istringstream words(process.command);
    std::string program, command;
    words >> program >> command;
    return command == "start" || command == "core";
}

std::string format_total(const MemorySection& section) {
    uint64_t total = 0;
    size_t unknown = 0;
    for (const ProcessMemory& process : section.processes) {
        if (process.private_dirty_kb)
            total += *process.private_dirty_kb;
        else
            ++unknown;
    }
    std::string out =
        fmt::format("### Total private dirty RSS: {:.2f} MB", static_cast<double>(total) / 1024.0);
    if (unknown > 0)
        out += fmt::format(" (not counting {} process(es) this user may not inspect)", unknown);
    return out;
}

}  // namespace

std::vector<ProcessMemory> read_process_table() {
    std::vector<ProcessMemory> table;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return table;
    while (dirent* entry = ::readdir(proc)) {
        std::string_view name = entry->d_name;
        if (name.empty() || name.find_first_not_of("0123456789") != std::string_view::npos)
            continue;
        std::string base = "/proc/" + std::string(name);
        std::string stat = read_file(base + "/stat");
        size_t open = stat.find('('), close = stat.rfind(')');
        if (open == std::string::npos || close == std::string::npos || close < open) continue;
        ProcessMemory process;
        process.pid = static_cast<pid_t>(std::stol(std::string(name)));
        process.comm = stat.substr(open + 1, close - open - 1);
        char state = 0;
        int ppid = 0;
        if (std::sscanf(stat.c_str() + close + 1, " %c %d", &state, &ppid) != 2) continue;
        if (state == 'Z' || state == 'X') continue;
        process.ppid = ppid;
        std::vector<std::string> words = split_cmdline(read_file(base + "/cmdline"));
        if (words.empty()) continue;  // kernel threads have no command line
        for (const std::string& word : words)
            process.command += (process.command.empty() ? "" : " ") + word;
        process.exe = read_link(base + "/exe");
        table.push_back(std::move(process));
    }
    ::closedir(proc);
    std::sort(table.begin(), table.end(),
              [](const ProcessMemory& a, const ProcessMemory& b) { return a.pid < b.pid; });
    return table;
}

void read_memory(ProcessMemory& process) {
    std::string base = fmt::format("/proc/{}", process.pid);
    process.vm_size_kb = field_kb(read_file(base + "/status"), "VmSize");
    process.private_dirty_kb = field_kb(read_file(base + "/smaps_rollup"), "Private_Dirty");
}

std::vector<MemorySection> memory_sections(std::vector<ProcessMemory> table,
                                           const std::vector<admin::Instance>& instances,
                                           const std::string& self_exe, pid_t self_pid) {
    std::set<pid_t> ours;
    for (const admin::Instance& instance : instances) {
        ours.insert(instance.properties.watchdog_pid);
        ours.insert(instance.properties.core_pid);
    }
    for (const ProcessMemory& process : table) {
        if (is_our_server(process, self_exe)) ours.insert(process.pid);
    }
    ours.erase(self_pid);

    // Everything below one of our processes that is not ours is an app process (or its child).
    std::set<pid_t> apps;
    for (bool grew = true; grew;) {
        grew = false;
        for (const ProcessMemory& process : table) {
            if (ours.contains(process.pid) || apps.contains(process.pid)) continue;
            if (ours.contains(process.ppid) || apps.contains(process.ppid)) {
                apps.insert(process.pid);
                grew = true;
            }
        }
    }
    apps.erase(self_pid);

    MemorySection nginx{"Nginx processes", {}}, apache{"Apache processes", {}},
        passenger{"Passenger processes", {}}, applications{"Application processes", {}};
    for (ProcessMemory& process : table) {
        MemorySection* section = nullptr;
        if (ours.contains(process.pid))
            section = &passenger;
        else if (apps.contains(process.pid))
            section = &applications;
        else if (process.comm == "nginx")
            section = &nginx;
        else if (process.comm == "apache2" || process.comm == "httpd")
            section = &apache;
        if (section == nullptr) continue;
        read_memory(process);
        section->processes.push_back(std::move(process));
    }
    std::vector<MemorySection> sections;
    if (!nginx.processes.empty()) sections.push_back(std::move(nginx));
    if (!apache.processes.empty()) sections.push_back(std::move(apache));
    sections.push_back(std::move(passenger));
    sections.push_back(std::move(applications));
    return sections;
}

std::string format_memory_sections(const std::vector<MemorySection>& sections) {
    std::string out;
    auto size = [](const std::optional<uint64_t>& kb) {
        return kb ? format_megabytes(*kb) : std::string("?");
    };
    for (const MemorySection& section : sections) {
        fmt::format_to(std::back_inserter(out), "\n---------- {} ----------\n", section.title);
        fmt::format_to(std::back_inserter(out), "{:<8} {:<8} {:<11} {:<11} {}\n", "PID", "PPID",
                       "VMSize", "Private", "Name");
        out += std::string(60, '-') + "\n";
        for (const ProcessMemory& process : section.processes) {
            fmt::format_to(std::back_inserter(out), "{:<8} {:<8} {:<11} {:<11} {}\n", process.pid,
                           process.ppid, size(process.vm_size_kb), size(process.private_dirty_kb),
                           process.command);
        }
        fmt::format_to(std::back_inserter(out), "### Processes: {}\n{}\n", section.processes.size(),
                       format_total(section));
    }
    return out;
}

}  // namespace passenger::cli

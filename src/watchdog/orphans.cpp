#include "watchdog/orphans.hpp"

#include <dirent.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>

namespace passenger::watchdog {
namespace {

// The parent pid from /proc/PID/status, or -1.
int parent_of(int pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.rfind("PPid:", 0) == 0) return std::atoi(line.c_str() + 5);
    }
    return -1;
}

}  // namespace

void adopt_orphaned_descendants() {
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
}

int kill_adopted_children(int keep_pid) {
    const int self = ::getpid();
    int signalled = 0;
    DIR* proc = ::opendir("/proc");
    if (proc == nullptr) return 0;
    while (dirent* entry = ::readdir(proc)) {
        char* end = nullptr;
        long pid = std::strtol(entry->d_name, &end, 10);
        if (*end != '\0' || pid <= 0 || pid == keep_pid || parent_of(static_cast<int>(pid)) != self)
            continue;
        // App processes lead or belong to their own process group: take the whole group.
        pid_t group = ::getpgid(static_cast<pid_t>(pid));
        if (group > 0 && group != ::getpgrp()) ::kill(-group, SIGKILL);
        ::kill(static_cast<pid_t>(pid), SIGKILL);
        ++signalled;
    }
    ::closedir(proc);
    return signalled;
}

}  // namespace passenger::watchdog

#include "spawn/child_reaper.hpp"

#include <sys/wait.h>

#include <csignal>

namespace passenger::spawn {

ChildReaper::ChildReaper(asio::io_context& io) : signals_(io, SIGCHLD) {
    wait_for_signal();
}

void ChildReaper::watch(pid_t pid, ExitHandler handler) {
    if (auto it = unclaimed_.find(pid); it != unclaimed_.end()) {
        int status = it->second;
        unclaimed_.erase(it);
        handler(status);
        return;
    }
    handlers_[pid] = std::move(handler);
}

void ChildReaper::wait_for_signal() {
    signals_.async_wait([this](const asio::error_code& error, int) {
        if (error) return;
        reap();
        wait_for_signal();
    });
}

void ChildReaper::reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) report_exit(pid, status);
}

void ChildReaper::report_exit(pid_t pid, int wait_status) {
    auto it = handlers_.find(pid);
    if (it == handlers_.end()) {
        unclaimed_[pid] = wait_status;
        return;
    }
    ExitHandler handler = std::move(it->second);
    handlers_.erase(it);
    handler(wait_status);
}

}  // namespace passenger::spawn

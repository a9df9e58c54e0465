#include "watchdog/remote_stop.hpp"

#include "common/file_descriptor.hpp"
#include "common/safe_file.hpp"
#include "watchdog/pid_file.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace passenger::watchdog {
namespace {

using Clock = std::chrono::steady_clock;

// A pidfd becomes readable when the process exits and, unlike a bare pid, cannot be confused
// with a new process that reuses the number.
bool wait_with_pidfd(int pidfd, std::chrono::milliseconds timeout) {
    pollfd fd{pidfd, POLLIN, 0};
    auto deadline = Clock::now() + timeout;
    while (true) {
        auto remaining =
            std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
        int ready = ::poll(&fd, 1, static_cast<int>(std::max<decltype(remaining)>(remaining, 0)));
        if (ready > 0) return true;
        if (ready == 0) return false;
        if (errno != EINTR) return false;
    }
}

// For kernels without pidfd_open (before Linux 5.3).
bool wait_by_polling(pid_t pid, std::chrono::milliseconds timeout) {
    auto deadline = Clock::now() + timeout;
    while (process_is_alive(pid)) {
        if (Clock::now() >= deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

std::string remove_stale_pid_file(pid_t pid, const std::string& pid_file) {
    safe_file::remove_file(pid_file);
    return fmt::format("process {} from pid file {} is not running; removed the stale file", pid,
                       pid_file);
}

}  // namespace

std::string stop_server(const std::string& pid_file, std::chrono::milliseconds timeout,
                        int signal_number) {
    PidFileContents contents = read_pid_file(pid_file);
    switch (contents.state) {
        case PidFileContents::State::missing:
            return fmt::format("no pid file at {} (is the server running, with this port?)",
                               pid_file);
        case PidFileContents::State::unreadable:
        case PidFileContents::State::malformed:
            return contents.error;
        case PidFileContents::State::valid:
            break;
    }
    pid_t pid = contents.pid;
    // The pidfd pins the process: the check and the signal below reach the same one.
    FileDescriptor pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd.valid() && errno == ESRCH) return remove_stale_pid_file(pid, pid_file);
    if (!process_is_alive(pid)) return remove_stale_pid_file(pid, pid_file);
    // Whoever can write the pid file's folder (the app user) could name any process in it.
    if (std::string error = check_pid_file_holder(pid_file, contents); !error.empty()) return error;
    bool signalled = pidfd.valid() ? ::syscall(SYS_pidfd_send_signal, pidfd.get(), signal_number,
                                               nullptr, 0) == 0
                                   : ::kill(pid, signal_number) == 0;
    if (!signalled) {
        if (errno == ESRCH) return remove_stale_pid_file(pid, pid_file);
        return fmt::format("cannot signal process {}: {}", pid, std::strerror(errno));
    }
    bool exited =
        pidfd.valid() ? wait_with_pidfd(pidfd.get(), timeout) : wait_by_polling(pid, timeout);
    if (!exited)
        return fmt::format("process {} did not stop within {} s", pid,
                           std::chrono::duration_cast<std::chrono::seconds>(timeout).count());
    // The server removes its own pid file; this covers one that was killed before it could.
    remove_pid_file_if_owned(pid_file, pid);
    return {};
}

}  // namespace passenger::watchdog

#include "watchdog/core_process.hpp"

#include "common/core_environment.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/close_range.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <vector>

extern char** environ;

namespace passenger::watchdog {
namespace {

std::vector<std::string> core_environment(const config::Options& options, bool want_readiness) {
    std::vector<std::string> entries;
    for (char** entry = environ; *entry != nullptr; ++entry)
        if (!is_core_variable(*entry)) entries.emplace_back(*entry);
    nlohmann::json json = options;
    entries.push_back(fmt::format("{}={}", kCoreOptionsVariable, json.dump()));
    entries.push_back(fmt::format("{}={}", kListenFdVariable, kCoreListenFd));
    entries.push_back(fmt::format("{}={}", kWatchdogPidVariable, ::getpid()));
    if (want_readiness) entries.push_back(fmt::format("{}={}", kReadyFdVariable, kCoreReadyFd));
    return entries;
}

// Runs in the forked child: only async-signal-safe calls until execve. `placements` pairs each
// inherited fd (-1: none) with the number it gets in the core.
[[noreturn]] void exec_core(const char* executable, const int (&placements)[4][2],
                            int exec_error_writer, const sigset_t& child_mask, char* const argv[],
                            char* const envp[]) {
    // Move every fd out of the way first, so placing one cannot clobber another.
    int high[4];
    bool placed = true;
    for (int i = 0; i < 4; ++i) {
        high[i] = placements[i][0] >= 0 ? ::fcntl(placements[i][0], F_DUPFD_CLOEXEC, 10) : -1;
        if (placements[i][0] >= 0 && high[i] < 0) placed = false;
    }
    for (int i = 0; placed && i < 4; ++i) {
        int target = placements[i][1];
        // A number left empty must not carry something this process inherited.
        if (high[i] < 0)
            ::close(target);
        else
            placed = ::dup2(high[i], target) == target;
    }
    if (placed) {
        // Fds this process inherited from whoever started `passenger start` must not reach the
        // core or its apps either. CLOEXEC rather than close: the exec error pipe must survive.
        ::close_range(kCoreTlsChannelFd + 1, ~0U, CLOSE_RANGE_CLOEXEC);
        struct sigaction default_action {};
        default_action.sa_handler = SIG_DFL;
        ::sigaction(SIGPIPE, &default_action, nullptr);
        ::sigprocmask(SIG_SETMASK, &child_mask, nullptr);
        ::execve(executable, argv, envp);
    }
    int error = errno;
    [[maybe_unused]] ssize_t ignored = ::write(exec_error_writer, &error, sizeof error);
    ::_exit(127);
}

}  // namespace

CoreLaunch launch_core(const CoreCommand& command, const config::Options& options,
                       const CoreSockets& sockets, bool want_readiness,
                       const sigset_t& child_mask) {
    CoreLaunch result;
    // Everything the child needs is prepared before fork: it may not allocate afterwards.
    std::vector<std::string> environment = core_environment(options, want_readiness);
    std::vector<char*> envp;
    for (std::string& entry : environment) envp.push_back(entry.data());
    envp.push_back(nullptr);
    std::vector<std::string> arguments = command.argv;
    std::vector<char*> argv;
    for (std::string& argument : arguments) argv.push_back(argument.data());
    argv.push_back(nullptr);

    int ready_pipe[2] = {-1, -1};
    int exec_error_pipe[2];
    if ((want_readiness && ::pipe2(ready_pipe, O_CLOEXEC) != 0) ||
        ::pipe2(exec_error_pipe, O_CLOEXEC) != 0) {
        result.error = fmt::format("cannot create a pipe: {}", std::strerror(errno));
        return result;
    }
    FileDescriptor ready_reader(ready_pipe[0]), ready_writer(ready_pipe[1]);
    FileDescriptor exec_error_reader(exec_error_pipe[0]), exec_error_writer(exec_error_pipe[1]);

    pid_t pid = ::fork();
    if (pid < 0) {
        result.error = fmt::format("cannot fork the core process: {}", std::strerror(errno));
        return result;
    }
    if (pid == 0) {
        const int placements[4][2] = {{sockets.listen, kCoreListenFd},
                                      {ready_writer.get(), kCoreReadyFd},
                                      {sockets.ssl_listen, kCoreSslListenFd},
                                      {sockets.tls_channel, kCoreTlsChannelFd}};
        exec_core(command.executable.c_str(), placements, exec_error_writer.get(), child_mask,
                  argv.data(), envp.data());
    }

    // The parent must not hold the write ends, or it would never see EOF on them.
    ready_writer.reset();
    exec_error_writer.reset();
    int exec_errno = 0;
    ssize_t length;
    do length = ::read(exec_error_reader.get(), &exec_errno, sizeof exec_errno);
    while (length < 0 && errno == EINTR);
    if (length > 0) {
        // The child has exited with 127; the caller reaps it through SIGCHLD like any core exit.
        result.error = fmt::format("cannot execute {} as the core process: {}", command.executable,
                                   std::strerror(exec_errno));
        return result;
    }
    result.pid = pid;
    result.ready_reader = std::move(ready_reader);
    return result;
}

}  // namespace passenger::watchdog

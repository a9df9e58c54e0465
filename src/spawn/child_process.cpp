#include "spawn/child_process.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <linux/close_range.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

namespace passenger::spawn {
namespace {

// Only async-signal-safe calls between fork and exec.
[[noreturn]] void fail_child(int stderr_fd, const char* message, int code) {
    (void)!::write(stderr_fd, message, std::strlen(message));
    _exit(code);
}

[[noreturn]] void exec_child(pid_t parent, char* const* argv, char* const* envp,
                             const char* working_directory, int stdout_fd, int stderr_fd,
                             const ChildCredentials* credentials) {
    ::setpgid(0, 0);
    if (credentials != nullptr) {
        // Groups first: once the user id is dropped they can no longer be changed.
        if (::setgroups(credentials->groups.size(), credentials->groups.data()) != 0 ||
            ::setgid(credentials->gid) != 0 || ::setuid(credentials->uid) != 0)
            fail_child(stderr_fd, "cannot switch to the app's user\n", 126);
        if (credentials->uid != 0 && ::setuid(0) == 0)
            fail_child(stderr_fd, "root privileges could be regained\n", 126);
    }
    // After the switch: changing credentials clears the parent-death signal.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);  // the core died before prctl took effect

    sigset_t all;
    sigemptyset(&all);
    ::sigprocmask(SIG_SETMASK, &all, nullptr);
    for (int signal = 1; signal < NSIG; ++signal) ::signal(signal, SIG_DFL);

    int null_fd = ::open("/dev/null", O_RDONLY);
    ::dup2(null_fd, STDIN_FILENO);
    ::dup2(stdout_fd, STDOUT_FILENO);
    ::dup2(stderr_fd, STDERR_FILENO);
    ::close_range(3, ~0U, 0);

    if (::chdir(working_directory) != 0) {
        const char message[] = "cannot change into the app directory\n";
        (void)!::write(STDERR_FILENO, message, sizeof message - 1);
        _exit(126);
    }
    ::execvpe(argv[0], argv, envp);
    int error = errno;
    const char prefix[] = "cannot execute ";
    (void)!::write(STDERR_FILENO, prefix, sizeof prefix - 1);
    (void)!::write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
    (void)!::write(STDERR_FILENO, ": ", 2);
    const char* reason = std::strerror(error);
    (void)!::write(STDERR_FILENO, reason, std::strlen(reason));
    (void)!::write(STDERR_FILENO, "\n", 1);
    _exit(127);
}

std::vector<char*> to_pointers(const std::vector<std::string>& strings) {
    std::vector<char*> pointers;
    pointers.reserve(strings.size() + 1);
    for (const auto& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
    pointers.push_back(nullptr);
    return pointers;
}

}  // namespace

ChildProcess start_child_process(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment,
                                 const std::string& working_directory,
                                 const ChildCredentials* credentials) {
    ChildProcess child;
    int stdout_pipe[2], stderr_pipe[2];
    if (::pipe2(stdout_pipe, O_CLOEXEC) != 0) {
        child.error = fmt::format("cannot create a pipe: {}", std::strerror(errno));
        return child;
    }
    if (::pipe2(stderr_pipe, O_CLOEXEC) != 0) {
        child.error = fmt::format("cannot create a pipe: {}", std::strerror(errno));
        ::close(stdout_pipe[0]);
        ::close(stdout_pipe[1]);
        return child;
    }
    std::vector<char*> argv_pointers = to_pointers(argv);
    std::vector<char*> env_pointers = to_pointers(environment);
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
        exec_child(parent, argv_pointers.data(), env_pointers.data(), working_directory.c_str(),
                   stdout_pipe[1], stderr_pipe[1], credentials);
    }
    ::close(stdout_pipe[1]);
    ::close(stderr_pipe[1]);
    if (pid < 0) {
        child.error = fmt::format("cannot fork: {}", std::strerror(errno));
        ::close(stdout_pipe[0]);
        ::close(stderr_pipe[0]);
        return child;
    }
    // Also set the group from the parent, so a kill(-pid) right after fork cannot miss it.
    ::setpgid(pid, pid);
    child.pid = pid;
    child.stdout_fd = stdout_pipe[0];
    child.stderr_fd = stderr_pipe[0];
    return child;
}

}  // namespace passenger::spawn

#include "watchdog/daemon.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::watchdog {
namespace {

constexpr std::string_view kReadyMessage = "ready\n";

void write_message(FileDescriptor& status_writer, const std::string& message) {
    if (!status_writer.valid()) return;
    std::string_view rest = message;
    while (!rest.empty()) {
        ssize_t written = ::write(status_writer.get(), rest.data(), rest.size());
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) break;  // the original process is gone; nobody is listening
        rest.remove_prefix(static_cast<size_t>(written));
    }
    status_writer.reset();
}

std::string read_all(int fd) {
    std::string text;
    char buffer[512];
    while (true) {
        ssize_t length = ::read(fd, buffer, sizeof buffer);
        if (length < 0 && errno == EINTR) continue;
        if (length <= 0) return text;
        text.append(buffer, static_cast<size_t>(length));
    }
}

// Stdio must not keep the caller's terminal or pipes open: a script running
// `out=$(passenger start -d)` would wait forever.
void redirect_stdio_to_dev_null() {
    int null_fd = ::open("/dev/null", O_RDWR);
    if (null_fd < 0) return;
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO}) ::dup2(null_fd, fd);
    if (null_fd > STDERR_FILENO) ::close(null_fd);
}

}  // namespace

Daemonization daemonize() {
    Daemonization result;
    int status_pipe[2];
    if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
        result.failure = fmt::format("cannot create a pipe: {}", std::strerror(errno));
        return result;
    }
    FileDescriptor status_reader(status_pipe[0]), status_writer(status_pipe[1]);
    std::fflush(nullptr);  // or buffered output would be written twice
    pid_t first_child = ::fork();
    if (first_child < 0) {
        result.failure = fmt::format("cannot fork: {}", std::strerror(errno));
        return result;
    }
    if (first_child > 0) {
        status_writer.reset();
        std::string report = read_all(status_reader.get());
        ::waitpid(first_child, nullptr, 0);
        if (report == kReadyMessage) return result;
        while (!report.empty() && report.back() == '\n') report.pop_back();
        result.failure = report.empty() ? "the daemon exited before it was ready" : report;
        return result;
    }
    status_reader.reset();
    ::setsid();
    // The second fork makes the daemon a non-leader, so it can never get a controlling terminal.
    pid_t daemon = ::fork();
    if (daemon < 0) {
        write_message(status_writer, fmt::format("cannot fork: {}\n", std::strerror(errno)));
        ::_exit(1);
    }
    if (daemon > 0) ::_exit(0);
    redirect_stdio_to_dev_null();
    result.in_daemon = true;
    result.status_writer = std::move(status_writer);
    return result;
}

void report_daemon_ready(FileDescriptor& status_writer) {
    write_message(status_writer, std::string(kReadyMessage));
}

void report_daemon_failure(FileDescriptor& status_writer, const std::string& error) {
    write_message(status_writer, error + "\n");
}

}  // namespace passenger::watchdog

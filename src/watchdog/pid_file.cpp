#include "watchdog/pid_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace passenger::watchdog {

PidFileContents read_pid_file(const std::string& path) {
    PidFileContents result;
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT) {
            result.state = PidFileContents::State::unreadable;
            result.error = fmt::format("cannot read pid file {}: {}", path, std::strerror(errno));
        }
        return result;
    }
    char buffer[32];
    ssize_t length = ::read(fd, buffer, sizeof buffer - 1);
    ::close(fd);
    std::string_view text(buffer, length > 0 ? static_cast<size_t>(length) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    pid_t pid = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || pid <= 0) {
        result.state = PidFileContents::State::malformed;
        result.error = fmt::format("pid file {} does not contain a process id", path);
        return result;
    }
    result.state = PidFileContents::State::valid;
    result.pid = pid;
    return result;
}

std::string write_pid_file(const std::string& path, pid_t pid) {
    std::string temporary = fmt::format("{}.tmp{}", path, ::getpid());
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return fmt::format("cannot write pid file {}: {}", path, std::strerror(errno));
    std::string text = fmt::format("{}\n", pid);
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    int write_errno = errno;
    ::close(fd);
    if (!written || ::rename(temporary.c_str(), path.c_str()) != 0) {
        int error = written ? errno : write_errno;
        ::unlink(temporary.c_str());
        return fmt::format("cannot write pid file {}: {}", path, std::strerror(error));
    }
    return {};
}

void remove_pid_file_if_owned(const std::string& path, pid_t pid) {
    PidFileContents contents = read_pid_file(path);
    if (contents.state == PidFileContents::State::valid && contents.pid == pid)
        ::unlink(path.c_str());
}

bool process_is_alive(pid_t pid) {
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

}  // namespace passenger::watchdog

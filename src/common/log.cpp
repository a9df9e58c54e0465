#include "common/log.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace passenger::log {
namespace {

int log_fd = -1;
bool echo = true;
Level max_level = Level::notice;
std::string role_name = "passenger";

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return;
        }
        data.remove_prefix(static_cast<size_t>(n));
    }
}

void emit(std::string_view line) {
    if (log_fd >= 0) write_all(log_fd, line);
    if (echo) write_all(STDERR_FILENO, line);
}

char level_letter(Level level) {
    static constexpr char letters[] = {'E', 'W', 'N', 'I', 'D'};
    return letters[static_cast<int>(level)];
}

}  // namespace

std::string open(const std::string& path, bool echo_to_stderr) {
    echo = echo_to_stderr;
    if (path.empty()) return {};
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return fmt::format("cannot open log file {}: {}", path, std::strerror(errno));
    if (log_fd >= 0) ::close(log_fd);
    log_fd = fd;
    return {};
}

void set_level(Level level) {
    max_level = level;
}
void set_role(std::string_view role) {
    role_name = role;
}
bool enabled(Level level) {
    return level <= max_level;
}

void write_line(Level level, std::string_view message) {
    timeval now{};
    gettimeofday(&now, nullptr);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
    emit(fmt::format("[ {} {}.{:04} {}/{} ]: {}\n", level_letter(level), stamp, now.tv_usec / 100,
                     getpid(), role_name, message));
}

void write_raw(std::string_view line) {
    std::string with_newline(line);
    with_newline.push_back('\n');
    emit(with_newline);
}

}  // namespace passenger::log

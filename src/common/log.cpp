#include "common/log.hpp"

#include "common/log_file.hpp"
#include "common/safe_file.hpp"

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
    // Root opens it too (the watchdog, the core before it drops privileges), often in the app
    // user's folder: no link is followed there, and a new file is that user's.
    safe_file::OpenedFile file =
        safe_file::open_file(path, safe_file::Access::append, safe_file::Creator::folder_owner);
    if (!file.ok()) return safe_file::describe("log file", path, file.error);
    if (log_fd >= 0) ::close(log_fd);
    log_fd = file.fd.release();
    return {};
}

void write_to_file(std::string_view text) {
    if (log_fd >= 0) write_all(log_fd, text);
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

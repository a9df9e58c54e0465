#include "common/log.hpp"

#include "common/log_file.hpp"
#include "common/safe_file.hpp"

#include <fcntl.h>
#include <sys/time.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <mutex>

namespace passenger::log {
namespace {

// Every event loop logs; the log file changes only at start and on SIGUSR1 (reopen), under the
// lock that each line's write takes too (so a line never goes to a descriptor being closed).
std::mutex log_mutex;
int log_fd = -1;
bool echo = true;
bool json_format = false;
std::atomic<Level> max_level = Level::notice;
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
    std::lock_guard lock(log_mutex);
    if (log_fd >= 0) write_all(log_fd, line);
    if (echo) write_all(STDERR_FILENO, line);
}

char level_letter(Level level) {
    static constexpr char letters[] = {'E', 'W', 'N', 'I', 'D'};
    return letters[static_cast<int>(level)];
}

void close_log_fd() {
    if (log_fd > STDERR_FILENO) ::close(log_fd);
    log_fd = -1;
}

constexpr std::string_view level_names[] = {"error", "warn", "notice", "info", "debug"};

}  // namespace

std::string open(const std::string& path, bool echo_to_stderr) {
    std::unique_lock lock(log_mutex);
    echo = echo_to_stderr;
    if (path.empty()) return {};
    if (path == "-") {  // the terminal or the container runtime reads it: no second copy
        close_log_fd();
        log_fd = STDOUT_FILENO;
        echo = false;
        return {};
    }
    // Root opens it too (the watchdog, the core before it drops privileges), often in the app
    // user's folder: no link is followed there, and a new file is that user's.
    lock.unlock();  // opening may log (safe_file)
    safe_file::OpenedFile file =
        safe_file::open_file(path, safe_file::Access::append, safe_file::Creator::folder_owner);
    if (!file.ok()) return safe_file::describe("log file", path, file.error);
    lock.lock();
    close_log_fd();
    log_fd = file.fd.release();
    return {};
}

void write_to_file(std::string_view text) {
    std::lock_guard lock(log_mutex);
    // On standard output the terminal has its own copy already.
    if (log_fd >= 0 && log_fd != STDOUT_FILENO && !json_format) write_all(log_fd, text);
}

bool echoes() {
    return echo;
}

void set_level(Level level) {
    max_level = level;
}
void set_json(bool json) {
    json_format = json;
}
void set_role(std::string_view role) {
    role_name = role;
}
bool enabled(Level level) {
    return level <= max_level;
}

std::string iso_time(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        time - std::chrono::system_clock::from_time_t(seconds))
                        .count();
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[32];
    std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    return fmt::format("{}.{:03}Z", text, ms);
}

std::string json_line(std::string_view time, std::string_view level, long pid,
                      std::string_view component, std::string_view message,
                      std::string_view stream) {
    nlohmann::json line = {{"time", time},
                           {"level", level},
                           {"pid", pid},
                           {"component", component},
                           {"message", message}};
    if (!stream.empty()) line["stream"] = stream;
    // An app's output may be any bytes: invalid UTF-8 becomes U+FFFD, never an exception.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

void write_line(Level level, std::string_view message) {
    if (json_format) {
        emit(json_line(iso_time(std::chrono::system_clock::now()),
                       level_names[static_cast<int>(level)], getpid(), role_name, message));
        return;
    }
    timeval now{};
    gettimeofday(&now, nullptr);
    tm local{};
    localtime_r(&now.tv_sec, &local);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
    emit(fmt::format("[ {} {}.{:04} {}/{} ]: {}\n", level_letter(level), stamp, now.tv_usec / 100,
                     getpid(), role_name, message));
}

void write_app_output(long pid, std::string_view stream, std::string_view line) {
    if (json_format) {
        emit(json_line(iso_time(std::chrono::system_clock::now()), "info", pid, "app", line,
                       stream));
        return;
    }
    emit(fmt::format("App {} {}: {}\n", pid, stream, line));
}

void write_raw(std::string_view line) {
    std::string with_newline(line);
    with_newline.push_back('\n');
    emit(with_newline);
}

}  // namespace passenger::log

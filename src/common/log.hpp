// Process-wide logging: one line per call, written atomically (O_APPEND) to the log file and,
// when the server runs in the foreground, to the terminal as well.
#pragma once

#include <fmt/format.h>

#include <chrono>
#include <string>
#include <string_view>

namespace passenger::log {

enum class Level { error = 0, warn = 1, notice = 2, info = 3, debug = 4 };

// Opens `path` for appending (empty: no file; "-": standard output, never echoed) and decides
// whether lines are echoed to stderr. Returns an error message, or an empty string on success.
// Called again, it reopens (logrotate).
std::string open(const std::string& path, bool echo_to_stderr);
// Whether lines go to stderr too (what open() was told), for reopening the same way.
bool echoes();
void set_level(Level level);
// --log-format json: every line one JSON object (time, level, pid, component, message; app
// output with the app's pid and its stream).
void set_json(bool json);
// Names the process in every line ("watchdog", "core").
void set_role(std::string_view role);
bool enabled(Level level);

// Writes one already-formatted line (no trailing newline expected) with a timestamp and pid.
void write_line(Level level, std::string_view message);
// Writes a line verbatim, without timestamp: used for the start banner.
void write_raw(std::string_view line);
// A line an app process printed: "App <pid> <stream>: <line>", or its JSON object.
void write_app_output(long pid, std::string_view stream, std::string_view line);
// One line as --log-format json writes it (exposed for tests).
// `2026-12-06T03:04:05.123Z`: the time of JSON log lines and JSON access-log entries.
std::string iso_time(std::chrono::system_clock::time_point time);
std::string json_line(std::string_view time, std::string_view level, long pid,
                      std::string_view component, std::string_view message,
                      std::string_view stream = {});

template <typename... Args>
void error(fmt::format_string<Args...> format, Args&&... args) {
    write_line(Level::error, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::warn))
        write_line(Level::warn, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void notice(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::notice))
        write_line(Level::notice, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::info))
        write_line(Level::info, fmt::format(format, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> format, Args&&... args) {
    if (enabled(Level::debug))
        write_line(Level::debug, fmt::format(format, std::forward<Args>(args)...));
}

}  // namespace passenger::log

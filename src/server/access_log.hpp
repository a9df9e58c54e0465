// --access-log FILE|-: one line per request the front end answered (app, static file or error),
// in Apache's combined format followed by the request's times, or as JSON. Lines are collected
// and written (O_APPEND) once 64 KiB have gathered or a second after the first of them, as nginx's
// `access_log ... buffer=`: a write(2) per request cost 15% of hello world's req/s
// (bench/ops.sh). reopen() (logrotate, SIGUSR1) and the destructor write what is pending first.
#pragma once

#include <sys/types.h>

#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace passenger::server {

struct AccessLogEntry {
    std::chrono::system_clock::time_point time;  // when the request's head arrived
    std::string_view client;                     // the real client (--trusted-proxy)
    std::string_view method, target;
    int http_major = 1, http_minor = 1;
    int status = 0;  // 0: no response (the client left)
    uint64_t bytes_out = 0, bytes_in = 0;
    std::string_view referer, user_agent;
    double queue_seconds = 0, app_seconds = 0, total_seconds = 0;
    pid_t pid = 0;  // the app process, 0 for none
};

// `client - - [06/Dec/2026:03:04:05 +0000] "GET / HTTP/1.1" 200 512 "ref" "agent" queue=0.000
// app=0.002 total=0.003 pid=123`: combined, then the times (seconds) and the app process.
std::string format_combined(const AccessLogEntry& entry);
// One JSON object: time (ISO 8601 UTC), client, method, uri, protocol, status, bytes_out,
// bytes_in, referer, user_agent, queue_seconds, app_seconds, total_seconds, pid.
std::string format_json(const AccessLogEntry& entry);

class AccessLog {
  public:
    // `path`: "" (off), "-" (standard output) or an absolute file; `format`: combined or json.
    AccessLog(asio::io_context& io, std::string path, std::string format);
    AccessLog(const AccessLog&) = delete;
    AccessLog& operator=(const AccessLog&) = delete;
    ~AccessLog();

    // Opens (again) the file; returns why it cannot, or "".
    std::string reopen();
    bool enabled() const { return !path_.empty(); }
    void write(const AccessLogEntry& entry);
    void flush();

  private:
    void flush_locked();

    std::string path_, format_;
    // Every event loop writes lines; the timer and reopen() are the main loop's.
    std::mutex mutex_;
    int fd_ = -1;
    std::string pending_;  // lines not written yet
    bool flush_scheduled_ = false;
    asio::steady_timer flush_timer_;
};

}  // namespace passenger::server

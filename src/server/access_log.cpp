#include "server/access_log.hpp"

#include "common/log.hpp"
#include "common/safe_file.hpp"

#include <fmt/format.h>
#include <unistd.h>
#include <asio/post.hpp>
#include <nlohmann/json.hpp>

#include <cerrno>
#include <ctime>

namespace passenger::server {
namespace {

// A field between double quotes in the combined format: quotes and backslashes escaped, control
// bytes as \xHH (as nginx does), "-" when empty.
std::string log_quoted(std::string_view text) {
    if (text.empty()) return "\"-\"";
    std::string out = "\"";
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            out += fmt::format("\\x{:02X}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + "\"";
}

std::string clf_time(std::chrono::system_clock::time_point time) {
    const std::time_t seconds = std::chrono::system_clock::to_time_t(time);
    std::tm local{};
    ::localtime_r(&seconds, &local);
    char text[64];
    std::strftime(text, sizeof text, "%d/%b/%Y:%H:%M:%S %z", &local);
    return text;
}

void write_all(int fd, std::string_view data) {
    while (!data.empty()) {
        ssize_t n = ::write(fd, data.data(), data.size());
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data.remove_prefix(static_cast<size_t>(n));
    }
}

}  // namespace

std::string format_combined(const AccessLogEntry& e) {
    const std::string request =
        fmt::format("{} {} HTTP/{}.{}", e.method, e.target, e.http_major, e.http_minor);
    return fmt::format("{} - - [{}] {} {} {} {} {} queue={:.3f} app={:.3f} total={:.3f} pid={}\n",
                       e.client, clf_time(e.time), log_quoted(request),
                       e.status == 0 ? std::string("-") : std::to_string(e.status), e.bytes_out,
                       log_quoted(e.referer), log_quoted(e.user_agent), e.queue_seconds,
                       e.app_seconds, e.total_seconds,
                       e.pid == 0 ? std::string("-") : std::to_string(e.pid));
}

std::string format_json(const AccessLogEntry& e) {
    nlohmann::json line = {
        {"time", log::iso_time(e.time)},
        {"client", e.client},
        {"method", e.method},
        {"uri", e.target},
        {"protocol", fmt::format("HTTP/{}.{}", e.http_major, e.http_minor)},
        {"status", e.status},
        {"bytes_out", e.bytes_out},
        {"bytes_in", e.bytes_in},
        {"referer", e.referer},
        {"user_agent", e.user_agent},
        {"queue_seconds", e.queue_seconds},
        {"app_seconds", e.app_seconds},
        {"total_seconds", e.total_seconds},
        {"pid", e.pid == 0 ? nlohmann::json(nullptr) : nlohmann::json(e.pid)},
    };
    // Invalid UTF-8 from a client becomes U+FFFD rather than an exception.
    return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

namespace {
constexpr size_t kFlushBytes = 64 * 1024;
constexpr auto kFlushDelay = std::chrono::seconds(1);
}  // namespace

AccessLog::AccessLog(asio::io_context& io, std::string path, std::string format)
    : path_(std::move(path)), format_(std::move(format)), flush_timer_(io) {
    if (!enabled()) return;
    if (std::string error = reopen(); !error.empty()) log::error("{}", error);
}

AccessLog::~AccessLog() {
    flush();
    if (fd_ > STDERR_FILENO) ::close(fd_);
}

std::string AccessLog::reopen() {
    if (!enabled()) return {};
    std::lock_guard lock(mutex_);
    flush_locked();  // into the file the lines were meant for (logrotate moved it)
    if (path_ == "-") {
        fd_ = STDOUT_FILENO;
        return {};
    }
    safe_file::OpenedFile file =
        safe_file::open_file(path_, safe_file::Access::append, safe_file::Creator::self);
    if (!file.ok()) return safe_file::describe("access log", path_, file.error);
    if (fd_ > STDERR_FILENO) ::close(fd_);
    fd_ = file.fd.release();
    return {};
}

void AccessLog::write(const AccessLogEntry& entry) {
    if (!enabled()) return;
    std::string line = format_ == "json" ? format_json(entry) : format_combined(entry);
    std::lock_guard lock(mutex_);
    if (fd_ < 0) return;
    pending_ += line;
    if (pending_.size() >= kFlushBytes) {
        flush_locked();
    } else if (!flush_scheduled_) {
        // The timer is the main loop's: armed there (a line from another loop posts it).
        flush_scheduled_ = true;
        asio::post(flush_timer_.get_executor(), [this] {
            flush_timer_.expires_after(kFlushDelay);
            flush_timer_.async_wait([this](const asio::error_code& error) {
                if (error) return;  // the log is gone
                std::lock_guard lock(mutex_);
                flush_scheduled_ = false;
                flush_locked();
            });
        });
    }
}

void AccessLog::flush() {
    std::lock_guard lock(mutex_);
    flush_locked();
}

// A pending timer finds nothing left to write, or the lines written after this.
void AccessLog::flush_locked() {
    if (pending_.empty()) return;
    if (fd_ >= 0) write_all(fd_, pending_);
    pending_.clear();
}

}  // namespace passenger::server

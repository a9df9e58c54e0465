#include "pool/restart_watcher.hpp"

#include "common/log.hpp"

#include <sys/inotify.h>
#include <sys/stat.h>
#include <asio/buffer.hpp>

#include <cstring>

namespace passenger::pool {
namespace {

std::optional<long long> mtime_ns(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    return static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000LL + info.st_mtim.tv_nsec;
}

}  // namespace

RestartWatcher::RestartWatcher(asio::io_context& io, std::string app_root,
                               int stat_throttle_seconds, std::function<void()> on_restart)
    : io_(io),
      app_root_(std::move(app_root)),
      tmp_dir_(app_root_ + "/tmp"),
      stat_throttle_(stat_throttle_seconds),
      on_restart_(std::move(on_restart)),
      settle_timer_(io) {}

RestartWatcher::~RestartWatcher() {
    stop();
}

void RestartWatcher::start() {
    restart_mtime_ns_ = mtime_ns(tmp_dir_ + "/restart.txt");
    always_restart_ = mtime_ns(tmp_dir_ + "/always_restart.txt").has_value();
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) {
        log::notice(
            "inotify unavailable ({}); checking tmp/restart.txt on requests, at most "
            "every {} s",
            std::strerror(errno), stat_throttle_.count());
        return;
    }
    inotify_.emplace(io_, fd);
    // The app root is watched too, so a tmp/ created later is picked up.
    ::inotify_add_watch(fd, app_root_.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR);
    watch_tmp_dir();
    read_events();
}

void RestartWatcher::stop() {
    if (inotify_) {
        asio::error_code ignored;
        inotify_->close(ignored);
        inotify_.reset();
        settle_timer_.cancel();
    }
}

void RestartWatcher::watch_tmp_dir() {
    if (!inotify_ || tmp_watch_ >= 0) return;
    tmp_watch_ = ::inotify_add_watch(inotify_->native_handle(), tmp_dir_.c_str(),
                                     IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO |
                                         IN_DELETE | IN_MOVED_FROM | IN_ONLYDIR);
}

void RestartWatcher::read_events() {
    inotify_->async_read_some(asio::buffer(buffer_), [this](const asio::error_code& error, size_t) {
        if (error) return;  // closed by stop()
        watch_tmp_dir();
        // Which file changed matters little: looking at both files is cheap and exact. The look
        // waits for the burst to settle: `touch` creates the file, then sets its time.
        if (!check_pending_) {
            check_pending_ = true;
            settle_timer_.expires_after(std::chrono::milliseconds(30));
            settle_timer_.async_wait([this](const asio::error_code& error) {
                if (error || !check_pending_) return;
                check_pending_ = false;
                check_files();
            });
        }
        read_events();
    });
}

void RestartWatcher::check_files() {
    always_restart_ = mtime_ns(tmp_dir_ + "/always_restart.txt").has_value();
    auto current = mtime_ns(tmp_dir_ + "/restart.txt");
    bool changed = current.has_value() && current != restart_mtime_ns_;
    restart_mtime_ns_ = current;
    if (changed) {
        log::notice("{}/restart.txt changed; restarting the application", tmp_dir_);
        on_restart_();
    }
}

void RestartWatcher::on_request() {
    if (inotify_) {
        // Events seen but still settling: a request right after `touch` must see the change.
        if (check_pending_) {
            check_pending_ = false;
            settle_timer_.cancel();
            check_files();
        }
        return;
    }
    auto now = std::chrono::steady_clock::now();
    if (now < next_stat_check_) return;
    next_stat_check_ = now + stat_throttle_;
    check_files();
}

}  // namespace passenger::pool

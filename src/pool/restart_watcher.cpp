#include "pool/restart_watcher.hpp"

#include "common/log.hpp"

#include <sys/stat.h>

namespace passenger::pool {
namespace {

// What happens to restart.txt and always_restart.txt in tmp/, or to tmp/ itself.
constexpr uint32_t tmp_events =
    IN_ATTRIB | IN_CLOSE_WRITE | IN_CREATE | IN_MOVED_TO | IN_DELETE | IN_MOVED_FROM;
// A tmp/ created in, or moved into, the app folder.
constexpr uint32_t app_root_events = IN_CREATE | IN_MOVED_TO;

// The folder holding an app root that is a symlink (current -> releases/N): a deploy replaces
// the link there, and the watches must then move to the new release's folders. "" otherwise.
std::string link_folder(const std::string& app_root) {
    struct stat info {};
    if (::lstat(app_root.c_str(), &info) != 0 || !S_ISLNK(info.st_mode)) return {};
    auto slash = app_root.find_last_of('/');
    return slash == std::string::npos || slash == 0 ? std::string("/") : app_root.substr(0, slash);
}

std::optional<long long> mtime_ns(const std::string& path) {
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) return std::nullopt;
    return static_cast<long long>(info.st_mtim.tv_sec) * 1'000'000'000LL + info.st_mtim.tv_nsec;
}

}  // namespace

RestartWatcher::RestartWatcher(asio::io_context& io, std::string app_root,
                               int stat_throttle_seconds, std::function<void()> on_restart)
    : app_root_(std::move(app_root)),
      tmp_dir_(app_root_ + "/tmp"),
      stat_throttle_(stat_throttle_seconds),
      on_restart_(std::move(on_restart)),
      settle_timer_(io),
      folders_(io, [this] { on_folder_changed(); }) {}

void RestartWatcher::start() {
    restart_mtime_ns_ = mtime_ns(tmp_dir_ + "/restart.txt");
    always_restart_ = mtime_ns(tmp_dir_ + "/always_restart.txt").has_value();
    if (std::string error = folders_.start(app_root_, app_root_events); !error.empty()) {
        log::notice(
            "Cannot watch {} ({}); checking tmp/restart.txt on requests, at most every {} s",
            app_root_, error, stat_throttle_.count());
        return;
    }
    folders_.start(tmp_dir_, tmp_events);  // a missing tmp/ is watched once it is created
    if (std::string folder = link_folder(app_root_); !folder.empty())
        folders_.start(folder, app_root_events | IN_DELETE);
}

void RestartWatcher::stop() {
    stopped_ = true;
    folders_.stop();
    settle_timer_.cancel();
    check_pending_ = false;
}

// inotify_add_watch on a path already watched returns the same watch; on a path whose folder was
// replaced (or that a switched symlink leads elsewhere now) it moves the watch to the folder
// there now. Two syscalls, on events and throttled checks only.
void RestartWatcher::renew_watches() {
    if (stopped_ || !folders_.start(app_root_, app_root_events).empty()) return;
    folders_.start(tmp_dir_, tmp_events);
}

void RestartWatcher::on_folder_changed() {
    renew_watches();
    // Which file changed matters little: looking at both files is cheap and exact. The look
    // waits for the burst to settle: `touch` creates the file, then sets its time.
    if (check_pending_) return;
    check_pending_ = true;
    settle_timer_.expires_after(std::chrono::milliseconds(30));
    settle_timer_.async_wait([this](const asio::error_code& error) {
        if (error || !check_pending_) return;
        check_pending_ = false;
        check_files();
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
    auto now = std::chrono::steady_clock::now();
    // Events seen but still settling: a request right after `touch` must see the change.
    if (check_pending_) {
        check_pending_ = false;
        settle_timer_.cancel();
        check_files();
        return;
    }
    if (now < next_stat_check_.load(std::memory_order_relaxed)) return;
    next_stat_check_ = now + stat_throttle_;
    renew_watches();
    check_files();
}

}  // namespace passenger::pool

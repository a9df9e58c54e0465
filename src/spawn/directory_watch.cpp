#include "spawn/directory_watch.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace passenger::spawn {

DirectoryWatch::DirectoryWatch(asio::io_context& io, std::function<void()> on_change)
    : io_(io), on_change_(std::move(on_change)) {}

DirectoryWatch::~DirectoryWatch() {
    stop();
}

std::string DirectoryWatch::start(const std::string& directory, uint32_t events) {
    if (!inotify_) {
        int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (fd < 0) return fmt::format("inotify_init1: {}", std::strerror(errno));
        inotify_.emplace(io_, fd);
        read_events();
    }
    const int fd = inotify_->native_handle();
    int watch = ::inotify_add_watch(fd, directory.c_str(), events | IN_ONLYDIR);
    int error = errno;
    auto previous = watches_.find(directory);
    if (previous != watches_.end() && previous->second != watch) {
        // The folder that was there was renamed away (a deleted one lost its watch already).
        int old_watch = previous->second;
        watches_.erase(previous);
        bool shared = std::any_of(watches_.begin(), watches_.end(),
                                  [&](const auto& entry) { return entry.second == old_watch; });
        if (!shared) ::inotify_rm_watch(fd, old_watch);
    }
    if (watch < 0) return fmt::format("inotify_add_watch {}: {}", directory, std::strerror(error));
    watches_[directory] = watch;
    return {};
}

void DirectoryWatch::stop() {
    watches_.clear();
    if (!inotify_) return;
    asio::error_code ignored;
    inotify_->close(ignored);
    inotify_.reset();
}

void DirectoryWatch::read_events() {
    // Which file changed is not looked at: the owner simply checks again what it waits for.
    inotify_->async_read_some(asio::buffer(events_),
                              [this](const asio::error_code& error, size_t length) {
                                  if (error) return;  // closed by stop()
                                  forget_removed_watches(length);
                                  on_change_();
                                  if (inotify_) read_events();
                              });
}

// IN_IGNORED: the kernel dropped a watch because its folder was deleted (or its file system
// unmounted).
void DirectoryWatch::forget_removed_watches(size_t length) {
    for (size_t offset = 0; offset + sizeof(inotify_event) <= length;) {
        inotify_event event;
        std::memcpy(&event, events_.data() + offset, sizeof event);
        if (event.mask & IN_IGNORED)
            std::erase_if(watches_, [&](const auto& entry) { return entry.second == event.wd; });
        offset += sizeof(inotify_event) + event.len;
    }
}

}  // namespace passenger::spawn

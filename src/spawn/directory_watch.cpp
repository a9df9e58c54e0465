#include "spawn/directory_watch.hpp"

#include <sys/inotify.h>

namespace passenger::spawn {

DirectoryWatch::DirectoryWatch(asio::io_context& io, std::function<void()> on_change)
    : io_(io), on_change_(std::move(on_change)) {}

DirectoryWatch::~DirectoryWatch() {
    if (!inotify_) return;
    asio::error_code ignored;
    inotify_->close(ignored);
}

bool DirectoryWatch::start(const std::string& directory) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return false;
    inotify_.emplace(io_, fd);
    if (::inotify_add_watch(fd, directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        asio::error_code ignored;
        inotify_->close(ignored);
        inotify_.reset();
        return false;
    }
    read_events();
    return true;
}

void DirectoryWatch::read_events() {
    // Which file appeared is not looked at: the owner simply checks again what it waits for.
    inotify_->async_read_some(asio::buffer(events_), [this](const asio::error_code& error, size_t) {
        if (error) return;  // closed by the destructor
        on_change_();
        read_events();
    });
}

}  // namespace passenger::spawn

#include "spawn/directory_watch.hpp"

#include <fmt/format.h>
#include <sys/inotify.h>

#include <cerrno>
#include <cstring>

namespace passenger::spawn {

DirectoryWatch::DirectoryWatch(asio::io_context& io, std::function<void()> on_change)
    : io_(io), on_change_(std::move(on_change)) {}

DirectoryWatch::~DirectoryWatch() {
    if (!inotify_) return;
    asio::error_code ignored;
    inotify_->close(ignored);
}

std::string DirectoryWatch::start(const std::string& directory) {
    int fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (fd < 0) return fmt::format("inotify_init1: {}", std::strerror(errno));
    inotify_.emplace(io_, fd);
    if (::inotify_add_watch(fd, directory.c_str(), IN_CREATE | IN_MOVED_TO | IN_ONLYDIR) < 0) {
        std::string error =
            fmt::format("inotify_add_watch {}: {}", directory, std::strerror(errno));
        asio::error_code ignored;
        inotify_->close(ignored);
        inotify_.reset();
        return error;
    }
    read_events();
    return {};
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

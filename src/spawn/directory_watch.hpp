// Tells its owner whenever a file is created in, or moved into, one directory (inotify). The
// spawner watches its socket directory with it: an app behind a loader creates its socket file
// when it listens, so the spawner need not wait for its next polling round to notice.
//
// One inotify descriptor for the watch's whole lifetime, on purpose: closing one that has a watch
// blocks the caller until the kernel's fsnotify grace period has passed (measured 13-20 ms), which
// per spawn would stall the core's event loop right when the new process is ready.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <array>
#include <functional>
#include <optional>
#include <string>

namespace passenger::spawn {

class DirectoryWatch {
  public:
    DirectoryWatch(asio::io_context& io, std::function<void()> on_change);
    DirectoryWatch(const DirectoryWatch&) = delete;
    DirectoryWatch& operator=(const DirectoryWatch&) = delete;
    ~DirectoryWatch();

    // Starts watching `directory`. An error message where inotify is unavailable (or the
    // directory is missing): the owner then has to poll. Empty on success.
    std::string start(const std::string& directory);

  private:
    void read_events();

    asio::io_context& io_;
    std::function<void()> on_change_;
    std::optional<asio::posix::stream_descriptor> inotify_;
    std::array<char, 4096> events_{};
};

}  // namespace passenger::spawn

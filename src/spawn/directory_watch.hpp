// Tells its owner whenever something happens in the directories it watches (inotify). The
// spawner watches its socket directory with it: an app behind a loader creates its socket file
// when it listens, so the spawner need not wait for its next polling round to notice. The pool's
// restart watcher watches an app's folder and its tmp/ with it.
//
// A watch follows a folder, not a path: once the folder is deleted it is gone, and a folder
// created again at the same path is not watched until start() is called for it again (which also
// moves the watch off a folder that was renamed away). watching() says whether a path is watched.
//
// One inotify descriptor for the watch's whole lifetime, on purpose: closing one that has a watch
// blocks the caller until the kernel's fsnotify grace period has passed (measured 13-20 ms), which
// per spawn would stall the core's event loop right when the new process is ready.
#pragma once

#include <sys/inotify.h>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

namespace passenger::spawn {

class DirectoryWatch {
  public:
    // Files created in, or moved into, the directory.
    static constexpr uint32_t files_appearing = IN_CREATE | IN_MOVED_TO;

    DirectoryWatch(asio::io_context& io, std::function<void()> on_change);
    DirectoryWatch(const DirectoryWatch&) = delete;
    DirectoryWatch& operator=(const DirectoryWatch&) = delete;
    ~DirectoryWatch();

    // Starts (or renews) watching the directory now at `directory` for `events` (inotify IN_*
    // flags). An error message where inotify is unavailable or the directory is missing: the
    // owner then has to poll. Empty on success.
    std::string start(const std::string& directory, uint32_t events = files_appearing);
    // True while the directory start() last found at `directory` exists and is watched.
    bool watching(const std::string& directory) const { return watches_.contains(directory); }
    // Stops watching everything (the descriptor is closed: see above for what that costs).
    void stop();

  private:
    void read_events();
    void forget_removed_watches(size_t length);

    asio::io_context& io_;
    std::function<void()> on_change_;
    std::optional<asio::posix::stream_descriptor> inotify_;
    std::map<std::string, int> watches_;  // path -> inotify watch descriptor
    std::array<char, 4096> events_{};
};

}  // namespace passenger::spawn

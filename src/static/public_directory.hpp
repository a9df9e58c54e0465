// An open descriptor of the app's public/ folder, for opening files beneath it, and the paths
// found not to be files there. Opening public/ for every request cost two syscalls (open, close)
// on every request, static or not, and most requests of a dynamic app name no file (one more
// failing openat2 each). Both are kept for at most one `refresh` interval: public/ is opened
// again and the misses forgotten, so a deploy that swaps public/ (or a `current` symlink above
// it), a public/ created after start, or a file added to it, is seen within that interval.
#pragma once

#include "common/file_descriptor.hpp"

#include <chrono>
#include <string>
#include <unordered_set>

namespace passenger::static_files {

class PublicDirectory {
  public:
    using Clock = std::chrono::steady_clock;

    PublicDirectory(std::string path, Clock::duration refresh);

    const std::string& path() const { return path_; }
    // The open folder (O_PATH), or -1 when it does not exist (or is not a folder) at the moment.
    int fd(Clock::time_point now = Clock::now());

    // Whether `relative` was found not to name a servable file since the folder was last opened.
    bool known_missing(const std::string& relative) const { return missing_.contains(relative); }
    // Remembers a miss (up to max_misses of them per interval: request paths are the client's).
    void remember_missing(std::string relative);

    static constexpr size_t max_misses = 1024;

  private:
    std::string path_;
    Clock::duration refresh_;
    FileDescriptor fd_;
    std::unordered_set<std::string> missing_;
    Clock::time_point opened_{};
    bool ever_opened_ = false;
};

}  // namespace passenger::static_files

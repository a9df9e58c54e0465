// An open descriptor of the app's public/ folder, for opening files beneath it. Opening public/
// for every request cost two syscalls (open, close) on every request, static or not; this keeps it
// open and opens it again at most once per `refresh` interval, so a deploy that swaps public/ (or
// a `current` symlink above it), or a public/ created after start, is seen within that interval.
#pragma once

#include "static/file_descriptor.hpp"

#include <chrono>
#include <string>

namespace passenger::static_files {

class PublicDirectory {
  public:
    using Clock = std::chrono::steady_clock;

    PublicDirectory(std::string path, Clock::duration refresh);

    const std::string& path() const { return path_; }
    // The open folder (O_PATH), or -1 when it does not exist (or is not a folder) at the moment.
    int fd(Clock::time_point now = Clock::now());

  private:
    std::string path_;
    Clock::duration refresh_;
    FileDescriptor fd_;
    Clock::time_point opened_{};
    bool ever_opened_ = false;
};

}  // namespace passenger::static_files

#include "static/public_directory.hpp"

#include <fcntl.h>

namespace passenger::static_files {

PublicDirectory::PublicDirectory(std::string path, Clock::duration refresh)
    : path_(std::move(path)), refresh_(refresh) {}

int PublicDirectory::fd(Clock::time_point now) {
    if (!ever_opened_ || now - opened_ >= refresh_) {
        fd_ = FileDescriptor(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        opened_ = now;
        missing_.clear();
        ever_opened_ = true;
    }
    return fd_.get();
}

void PublicDirectory::remember_missing(std::string relative) {
    if (missing_.size() < max_misses) missing_.insert(std::move(relative));
}

}  // namespace passenger::static_files

#include "static/small_file_cache.hpp"

#include <fcntl.h>

#include <ctime>

namespace passenger::static_files {
namespace {

bool same_time(const timespec& a, const timespec& b) {
    return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

// Whether `now` is the very file `then` described, with the same contents as far as the file
// system can tell (a write changes mtime and ctime; a rename-over changes the inode).
bool unchanged(const struct stat& then, const struct stat& now) {
    return S_ISREG(now.st_mode) && now.st_dev == then.st_dev && now.st_ino == then.st_ino &&
           now.st_size == then.st_size && same_time(now.st_mtim, then.st_mtim) &&
           same_time(now.st_ctim, then.st_ctim);
}

}  // namespace

bool SmallFileCache::admits(const struct stat& info) const {
    timespec now{};
    ::clock_gettime(CLOCK_REALTIME, &now);
    auto since = [&](const timespec& then) {
        return std::chrono::seconds(now.tv_sec - then.tv_sec) +
               std::chrono::nanoseconds(now.tv_nsec - then.tv_nsec);
    };
    return since(info.st_mtim) >= min_age_ && since(info.st_ctim) >= min_age_;
}

const SmallFileCache::Entry* SmallFileCache::find(int root_fd, const std::string& request_path) {
    auto it = entries_.find(request_path);
    if (it == entries_.end()) return nullptr;
    // Following symlinks is safe here: the entry's bytes were read through a descriptor opened
    // beneath public/, and only that same inode, unchanged, matches.
    struct stat now {};
    if (::fstatat(root_fd, it->second.served_path.c_str(), &now, 0) == 0 &&
        unchanged(it->second.info, now)) {
        return &it->second;
    }
    bytes_ -= cost(it->first, it->second);
    entries_.erase(it);
    return nullptr;
}

const SmallFileCache::Entry* SmallFileCache::insert(const std::string& request_path, Entry entry) {
    size_t entry_cost = cost(request_path, entry);
    if (entry_cost > max_bytes) return nullptr;
    if (auto it = entries_.find(request_path); it != entries_.end()) {
        bytes_ -= cost(it->first, it->second);
        entries_.erase(it);
    }
    if (bytes_ + entry_cost > max_bytes) {
        entries_.clear();
        bytes_ = 0;
    }
    bytes_ += entry_cost;
    return &entries_.emplace(request_path, std::move(entry)).first->second;
}

}  // namespace passenger::static_files

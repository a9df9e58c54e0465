// The contents of small files under public/, kept in memory. An entry is used only after one
// fstatat(2) shows the file it was read from unchanged (same device, inode, size, mtime and
// ctime), so a rewritten, replaced, removed or chmod'ed file is never served stale; a hit saves
// the open, fstat, pread and close of the file. Bounded in bytes; when full, it starts over.
//
// File timestamps are coarse (a clock tick): a file rewritten with the same size within the tick
// of its previous change could keep its mtime and ctime. So, as git does with "racily clean"
// entries, a file changed less than `min_age` ago is not admitted; it is read from disk each time
// until it has been left alone that long.
#pragma once

#include <sys/stat.h>

#include <chrono>
#include <cstddef>
#include <string>
#include <unordered_map>

namespace passenger::static_files {

class SmallFileCache {
  public:
    struct Entry {
        std::string served_path;  // what was opened, relative to public/ (an index.html included)
        struct stat info {};      // the file as it was when read
        std::string content;      // all of it
    };

    explicit SmallFileCache(std::chrono::nanoseconds min_age = std::chrono::seconds(1))
        : min_age_(min_age) {}

    // Whether a file in this state may be cached (it was not changed too recently).
    bool admits(const struct stat& info) const;

    // The entry stored under `request_path`, if the file it was read from is unchanged beneath
    // `root_fd` (public/); a stale entry is dropped.
    const Entry* find(int root_fd, const std::string& request_path);
    // Stores `entry` and returns it; nullptr when it is too large to keep.
    const Entry* insert(const std::string& request_path, Entry entry);

    size_t bytes() const { return bytes_; }

    // Content plus an estimate of each entry's own overhead.
    static constexpr size_t max_bytes = 1 << 20;
    static constexpr size_t entry_overhead = 256;

  private:
    static size_t cost(const std::string& request_path, const Entry& entry) {
        return request_path.size() + entry.served_path.size() + entry.content.size() +
               entry_overhead;
    }

    std::chrono::nanoseconds min_age_;
    std::unordered_map<std::string, Entry> entries_;
    size_t bytes_ = 0;
};

}  // namespace passenger::static_files

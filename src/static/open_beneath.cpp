#include "static/open_beneath.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace passenger::static_files {

namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

std::atomic<bool> openat2_available{true};

// True when `path` is `root` or below it; both are canonical (realpath) paths.
bool is_inside(std::string_view path, std::string_view root) {
    if (root == "/") return true;
    if (!path.starts_with(root)) return false;
    return path.size() == root.size() || path[root.size()] == '/';
}

FileDescriptor open_with_realpath(const std::string& root_path, std::string_view relative) {
    char real_root[PATH_MAX];
    char real_target[PATH_MAX];
    if (::realpath(root_path.c_str(), real_root) == nullptr) return {};
    std::string target;
    target.reserve(root_path.size() + 1 + relative.size());
    target += root_path;
    target += '/';
    target += relative;
    if (::realpath(target.c_str(), real_target) == nullptr) return {};
    if (!is_inside(real_target, real_root)) return {};
    return FileDescriptor(::open(real_target, kOpenFlags | O_NOFOLLOW));
}

}  // namespace

FileDescriptor open_beneath(int root_fd, const std::string& root_path, std::string_view relative,
                            BeneathStrategy strategy) {
    if (strategy == BeneathStrategy::kFastest &&
        openat2_available.load(std::memory_order_relaxed)) {
        char path[PATH_MAX];
        if (relative.size() >= sizeof path) return {};
        if (relative.empty()) {
            path[0] = '.';
            path[1] = '\0';
        } else {
            std::memcpy(path, relative.data(), relative.size());
            path[relative.size()] = '\0';
        }
        open_how how{};
        how.flags = kOpenFlags;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
        long fd = ::syscall(SYS_openat2, root_fd, path, &how, sizeof how);
        if (fd >= 0) return FileDescriptor(static_cast<int>(fd));
        switch (errno) {
            case ENOSYS:
                openat2_available.store(false, std::memory_order_relaxed);
                break;
            case EXDEV:   // a symlink leaves the root, or is absolute: let realpath judge
            case EAGAIN:  // a concurrent rename made the kernel give up
            case EPERM:   // a seccomp filter that forbids openat2
                break;
            default:
                return {};  // missing, not a directory, permission denied, ...
        }
    }
    return open_with_realpath(root_path, relative);
}

}  // namespace passenger::static_files

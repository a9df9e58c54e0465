#include "common/folder_in_use.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include <cerrno>

namespace passenger::folder_in_use {

FileDescriptor hold(const std::string& path) {
    FileDescriptor folder(::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    // Shared: the lock says "in use"; only the sweep asks for it exclusively.
    if (folder.valid() && ::flock(folder.get(), LOCK_SH | LOCK_NB) != 0) {
        const int error = errno;
        folder.reset();
        errno = error;
    }
    return folder;
}

bool take_if_unused(int folder_fd) {
    return ::flock(folder_fd, LOCK_EX | LOCK_NB) == 0;
}

}  // namespace passenger::folder_in_use

// Opens a file by a path relative to a root directory such that the file reached is inside the
// root: symlinks may be followed only while they stay inside. Uses openat2(RESOLVE_BENEATH) (one
// syscall); falls back to realpath + prefix check where the kernel lacks openat2 or refuses a
// symlink it cannot judge (an absolute one, which may still point inside).
#pragma once

#include "common/file_descriptor.hpp"

#include <string>
#include <string_view>

namespace passenger::static_files {

enum class BeneathStrategy {
    kFastest,       // openat2 when the kernel has it, realpath otherwise
    kRealpathOnly,  // only the fallback (for tests)
};

// `root_fd` is an fd (O_PATH is enough) of `root_path`; `relative` is a normalized path from
// resolve_request_path() ("" for the root itself). Opens with O_RDONLY | O_CLOEXEC | O_NONBLOCK
// (so a FIFO cannot block the caller). Returns an invalid FileDescriptor when the file is missing,
// unreadable, or outside the root.
FileDescriptor open_beneath(int root_fd, const std::string& root_path, std::string_view relative,
                            BeneathStrategy strategy = BeneathStrategy::kFastest);

}  // namespace passenger::static_files

#include "watchdog/core_leftovers.hpp"

#include "spawn/socket_dir.hpp"

#include <sys/stat.h>

#include <filesystem>
#include <system_error>

namespace passenger::watchdog {

int remove_core_socket_dirs(pid_t core_pid, uid_t owner, const std::string& parent) {
    const std::string prefix = spawn::socket_dir_prefix(core_pid);
    int removed = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(parent, error)) {
        const std::string name = entry.path().filename().string();
        if (!name.starts_with(prefix)) continue;
        // lstat: a symlink planted under that name is not followed. The folder is the core's
        // own (mode 0700), so nobody else can have put anything into it.
        struct stat info {};
        if (::lstat(entry.path().c_str(), &info) != 0 || !S_ISDIR(info.st_mode) ||
            info.st_uid != owner)
            continue;
        std::error_code ignored;
        if (std::filesystem::remove_all(entry.path(), ignored) > 0) ++removed;
    }
    return removed;
}

}  // namespace passenger::watchdog

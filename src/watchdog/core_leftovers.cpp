#include "watchdog/core_leftovers.hpp"

#include "common/safe_file.hpp"
#include "spawn/socket_dir.hpp"

namespace passenger::watchdog {

int remove_core_socket_dirs(pid_t core_pid, uid_t owner, const std::string& parent) {
    const std::string prefix = spawn::socket_dir_prefix(core_pid);
    // The watchdog is root and the folder is the --user's: every step goes through opened
    // folders, a link planted under that name (or inside) is never followed, and only a real
    // folder owned by `owner` is removed.
    safe_file::Folder folder = safe_file::open_folder(parent);
    if (!folder.ok()) return 0;
    int removed = 0;
    for (const std::string& name : safe_file::list_names(folder)) {
        if (name.starts_with(prefix) && safe_file::remove_tree(folder, name, owner)) ++removed;
    }
    return removed;
}

}  // namespace passenger::watchdog

#include "watchdog/core_leftovers.hpp"

#include "common/safe_file.hpp"
#include "spawn/socket_dir.hpp"
#include "spawn/spawn_helper.hpp"

namespace passenger::watchdog {
namespace {

int remove_dirs_starting_with(const std::string& prefix, uid_t owner, const std::string& parent) {
    // The watchdog is root and the folder may be the --user's: every step goes through opened
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

}  // namespace

int remove_core_socket_dirs(pid_t core_pid, uid_t owner, const std::string& parent) {
    return remove_dirs_starting_with(spawn::socket_dir_prefix(core_pid), owner, parent);
}

int remove_spawn_helper_dirs(pid_t helper_pid, const std::string& parent) {
    return remove_dirs_starting_with(spawn::helper_socket_dir_prefix(helper_pid), 0, parent);
}

}  // namespace passenger::watchdog

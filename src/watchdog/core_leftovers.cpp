#include "watchdog/core_leftovers.hpp"

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "common/safe_file.hpp"
#include "spawn/socket_dir.hpp"
#include "spawn/spawn_helper.hpp"
#include "watchdog/module_socket.hpp"

namespace passenger::watchdog {
namespace {

// Whether a folder is removed although a running process may still hold it in use.
enum class InUse { ignored, respected };

// Removes the folders in `parent` that `owner_of` claims, each only if it is a real folder
// owned by the uid it gives. The watchdog is root and a folder may be the --user's: every step
// goes through opened folders, and a link planted under that name (or inside) is never followed.
int remove_folders(const std::string& parent, InUse in_use,
                   const std::function<std::optional<uid_t>(const std::string&)>& owner_of) {
    safe_file::Folder folder = safe_file::open_folder(parent);
    if (!folder.ok()) return 0;
    int removed = 0;
    for (const std::string& name : safe_file::list_names(folder)) {
        std::optional<uid_t> owner = owner_of(name);
        if (!owner) continue;
        if (in_use == InUse::respected ? safe_file::remove_unused_tree(folder, name, *owner)
                                       : safe_file::remove_tree(folder, name, *owner))
            ++removed;
    }
    return removed;
}

// The folders of a child this watchdog saw die: nothing of it can still hold them.
int remove_dirs_starting_with(const std::string& prefix, uid_t owner, const std::string& parent) {
    return remove_folders(parent, InUse::ignored,
                          [&](const std::string& name) -> std::optional<uid_t> {
                              if (name.starts_with(prefix)) return owner;
                              return std::nullopt;
                          });
}

// The pid in `name`, which starts with `kind` followed by "PID.": 0 when it does not.
pid_t pid_in_name(const std::string& name, std::string_view kind) {
    if (!name.starts_with(kind)) return 0;
    const char* digits = name.data() + kind.size();
    const char* end = name.data() + name.size();
    pid_t pid = 0;
    auto [after, error] = std::from_chars(digits, end, pid);
    if (error != std::errc() || after == end || *after != '.' || pid <= 0) return 0;
    return pid;
}

bool process_is_gone(pid_t pid) {
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

int remove_stale_dirs(uid_t core_owner, const std::string& parent) {
    struct Kind {
        std::string_view name_start;
        uid_t owner;
    };
    std::vector<Kind> kinds = {{spawn::socket_dir_kind, core_owner},
                               {module_socket_dir_kind, core_owner}};
    if (::geteuid() == 0) kinds.push_back({spawn::helper_socket_dir_kind, 0});
    // The pid only says who to ask: in another PID namespace sharing /tmp, a live owner's pid
    // does not exist here, but its in-use lock does (folder_in_use.hpp).
    return remove_folders(
        parent, InUse::respected, [&](const std::string& name) -> std::optional<uid_t> {
            for (const Kind& kind : kinds) {
                pid_t pid = pid_in_name(name, kind.name_start);
                if (pid != 0)
                    return process_is_gone(pid) ? std::optional(kind.owner) : std::nullopt;
            }
            return std::nullopt;
        });
}

int remove_core_socket_dirs(pid_t core_pid, uid_t owner, const std::string& parent) {
    return remove_dirs_starting_with(spawn::socket_dir_prefix(core_pid), owner, parent);
}

int remove_spawn_helper_dirs(pid_t helper_pid, const std::string& parent) {
    return remove_dirs_starting_with(spawn::helper_socket_dir_prefix(helper_pid), 0, parent);
}

}  // namespace passenger::watchdog

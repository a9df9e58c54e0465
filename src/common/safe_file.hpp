// Opening files and folders by path so that another user cannot redirect the open. Used wherever
// a process that may be root creates, reads or removes a file by path (log, pid file,
// Passengerfile.json, the instance registry, the socket and buffer folders).
//
// The rules, for every component of a path, walked from "/" with openat on the opened parent:
// - A symlink is followed only when nobody but root and this process's user can change it: its
//   folder is theirs and writable by no one else (or sticky, and the link is theirs too).
//   Any other symlink is refused, the last component included (O_NOFOLLOW).
// - An existing file in a folder that another user can change must be a regular file, and either
//   that folder owner's own file (in a folder not everyone can write) or a trusted user's with no
//   other hard link. Anything else (another user's file in /tmp, say) is refused.
// Every refusal is one line naming the path and why. A process that is not root trusts itself,
// so in its own folders nothing changes.
#pragma once

#include "common/file_descriptor.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace passenger::safe_file {

// An opened folder (an O_PATH descriptor) and what is known about it.
struct Folder {
    FileDescriptor fd;
    struct stat info {};
    std::string path;
    std::string error;     // why it could not be opened (names the path)
    bool missing = false;  // a component does not exist

    bool ok() const { return fd.valid(); }
};

// Opens the folder `path` (absolute, or relative to the working directory) by the rules above.
Folder open_folder(const std::string& path);

// Opens the folder `name` in `parent`, refusing a symlink of any kind (entries of folders the
// server created itself, like the instance registry's).
Folder open_subfolder(const Folder& parent, const std::string& name);

enum class Access {
    read,    // O_RDONLY; a missing file is reported as missing
    append,  // O_WRONLY | O_APPEND, created (mode 0644) when missing
};

// Who a created file belongs to.
enum class Creator {
    self,          // this process's user
    folder_owner,  // the folder's owner, when this process is root (the app user's log file)
};

struct OpenedFile {
    FileDescriptor fd;
    struct stat info {};
    std::string error;  // names the path
    bool missing = false;

    bool ok() const { return fd.valid(); }
};

// Opens `name` (one component) in `folder` by the rules above.
OpenedFile open_in_folder(const Folder& folder, const std::string& name, Access access,
                          Creator creator = Creator::self);

// open_folder on the path's folder, then open_in_folder.
OpenedFile open_file(const std::string& path, Access access, Creator creator = Creator::self);

// Writes `contents` to a new file with a random temporary name in `path`'s folder (O_EXCL, so
// nothing planted there is followed), then renames it over `path` within that folder. Returns
// the new file, still open, or an error line.
OpenedFile replace_file(const std::string& path, std::string_view contents, mode_t mode);

// A new file in `folder_path` (opened by the rules above) that has no name: O_TMPFILE, or where
// the file system lacks it, a random name (O_EXCL) removed at once. Mode 0600.
OpenedFile create_unnamed_file(const std::string& folder_path);

// A new folder with a random name "<prefix>XXXXXX" in `parent` (mkdirat: nothing planted there
// is followed), then given `mode` whatever the umask. Returns its name, or "" (errno is set).
std::string make_random_folder(const Folder& parent, const std::string& prefix, mode_t mode);

// The names in a folder, without "." and "..".
std::vector<std::string> list_names(const Folder& folder);

// Removes the tree `name` in `parent` without following any symlink in it: only a real folder
// owned by `owner`. Returns false when there was no such folder or it could not be removed.
bool remove_tree(const Folder& parent, const std::string& name, uid_t owner);

// remove_tree, unless a running process holds the folder's in-use lock (folder_in_use.hpp).
bool remove_unused_tree(const Folder& parent, const std::string& name, uid_t owner);

// Removes the file or link `path` (never what a link points to) from its folder, opened by the
// rules above. Returns false when it could not.
bool remove_file(const std::string& path);

// One line for a caller's error: "log file /a/b.log is a symbolic link in ..." when `error`
// starts with `path`, else "log file /a/b.log: <error>".
std::string describe(std::string_view what, const std::string& path, const std::string& error);

// "/a/b/c" -> {"/a/b", "c"}; "c" -> {".", "c"}.
std::pair<std::string, std::string> split_path(const std::string& path);

// The user or group that, besides root and this process's user, can replace entry `entry` of a
// folder (`folder`): "user NAME", "group NAME" or "every user"; "" when none can.
std::string untrusted_writer(const struct stat& folder, const struct stat& entry);

}  // namespace passenger::safe_file

#include "common/safe_file.hpp"

#include "common/folder_in_use.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>

namespace passenger::safe_file {
namespace {

// As the kernel's limit on symlinks in one lookup.
constexpr int kMaxLinks = 40;
// Socket folders are flat; a deeper tree is not ours to walk.
constexpr int kMaxRemovalDepth = 8;

bool trusted_user(uid_t uid) {
    return uid == 0 || uid == ::geteuid();
}
bool trusted_group(gid_t gid) {
    return gid == 0 || gid == ::getegid();
}

std::string user_name(uid_t uid) {
    if (passwd* entry = ::getpwuid(uid)) return entry->pw_name;
    return std::to_string(uid);
}
std::string group_name(gid_t gid) {
    if (group* entry = ::getgrgid(gid)) return entry->gr_name;
    return std::to_string(gid);
}

std::string joined(const std::string& folder, const std::string& name) {
    if (folder.empty() || folder.ends_with('/')) return folder + name;
    return folder + "/" + name;
}

std::string absolute(const std::string& path) {
    if (path.starts_with('/')) return path;
    char buffer[PATH_MAX];
    std::string cwd = ::getcwd(buffer, sizeof buffer) ? buffer : "/";
    return joined(cwd, path);
}

std::deque<std::string> components(const std::string& path) {
    std::deque<std::string> result;
    size_t start = 0;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        if (end > start) result.emplace_back(path.substr(start, end - start));
        start = end + 1;
    }
    return result;
}

// The target of the symlink opened (O_PATH | O_NOFOLLOW) as `link_fd`.
std::string link_target(int link_fd) {
    char buffer[PATH_MAX];
    ssize_t length = ::readlinkat(link_fd, "", buffer, sizeof buffer);
    return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : std::string();
}

std::string refused_link(const std::string& shown, const std::string& writer) {
    return fmt::format("{} is a symbolic link in a folder that {} can write; refusing to follow it",
                       shown, writer);
}

OpenedFile failed(std::string error, bool missing = false) {
    OpenedFile result;
    result.error = std::move(error);
    result.missing = missing;
    return result;
}

std::string random_suffix() {
    unsigned char bytes[6];
    if (::getrandom(bytes, sizeof bytes, 0) != sizeof bytes) return std::to_string(::getpid());
    std::string text;
    for (unsigned char byte : bytes) text += fmt::format("{:02x}", byte);
    return text;
}

// Whether an existing regular file in `folder` may be used; else why not.
std::string check_file(const Folder& folder, const std::string& shown, const struct stat& file) {
    if (!S_ISREG(file.st_mode)) return fmt::format("{} is not a regular file", shown);
    std::string writer = untrusted_writer(folder.info, file);
    if (writer.empty()) return {};
    // The folder's owner's own file (their group may share the folder: nobody but the owner can
    // make a file theirs), in a folder not everyone can write: nothing of anyone else's is
    // reachable through it.
    bool owners_own = file.st_uid == folder.info.st_uid && (folder.info.st_mode & S_IWOTH) == 0;
    if (owners_own) return {};
    if (trusted_user(file.st_uid)) {
        // Another name for the same file could be a hard link to something of root's.
        if (file.st_nlink == 1) return {};
        return fmt::format("{} has {} hard links and is in a folder that {} can write; refusing it",
                           shown, file.st_nlink, writer);
    }
    return fmt::format("{} is owned by {} in a folder that {} can write; refusing it", shown,
                       user_name(file.st_uid), writer);
}

OpenedFile open_in_folder_at_depth(const Folder& folder, const std::string& name, Access access,
                                   Creator creator, int links);

OpenedFile open_file_at_depth(const std::string& path, Access access, Creator creator, int links) {
    auto [folder_path, name] = split_path(path);
    Folder folder = open_folder(folder_path);
    if (!folder.ok()) return failed(folder.error, folder.missing);
    return open_in_folder_at_depth(folder, name, access, creator, links);
}

OpenedFile open_in_folder_at_depth(const Folder& folder, const std::string& name, Access access,
                                   Creator creator, int links) {
    OpenedFile result;
    const std::string shown = joined(folder.path, name);
    const int flags = O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK |
                      (access == Access::read ? O_RDONLY : O_WRONLY | O_APPEND);
    for (int attempt = 0; !result.fd.valid(); ++attempt) {
        int fd = ::openat(folder.fd.get(), name.c_str(), flags);
        if (fd < 0 && errno == ENOENT && access == Access::append) {
            fd = ::openat(folder.fd.get(), name.c_str(), flags | O_CREAT | O_EXCL, 0644);
            if (fd >= 0 && creator == Creator::folder_owner && ::geteuid() == 0 &&
                folder.info.st_uid != 0 &&
                ::fchown(fd, folder.info.st_uid, folder.info.st_gid) != 0) {
                ::close(fd);
                return failed(fmt::format("cannot give {} to its folder's owner: {}", shown,
                                          std::strerror(errno)));
            }
            if (fd < 0 && errno == EEXIST && attempt < 3) continue;  // created meanwhile
        }
        if (fd >= 0) {
            result.fd.reset(fd);
            break;
        }
        if (errno != ELOOP) {
            result.missing = errno == ENOENT;
            result.error = fmt::format("{}: {}", shown, std::strerror(errno));
            return result;
        }
        // A symlink (O_NOFOLLOW): followed only when no other user can have planted it.
        FileDescriptor link(
            ::openat(folder.fd.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat link_info {};
        if (!link.valid() || ::fstat(link.get(), &link_info) != 0)
            return failed(fmt::format("{}: {}", shown, std::strerror(errno)));
        if (std::string writer = untrusted_writer(folder.info, link_info); !writer.empty())
            return failed(refused_link(shown, writer));
        if (links >= kMaxLinks) return failed(fmt::format("{}: {}", shown, std::strerror(ELOOP)));
        std::string target = link_target(link.get());
        if (!target.starts_with('/')) target = joined(folder.path, target);
        return open_file_at_depth(target, access, creator, links + 1);
    }
    if (::fstat(result.fd.get(), &result.info) != 0)
        return failed(fmt::format("{}: {}", shown, std::strerror(errno)));
    if (std::string refusal = check_file(folder, shown, result.info); !refusal.empty())
        return failed(refusal);
    return result;
}

std::vector<std::string> names_in(int folder_fd) {
    std::vector<std::string> names;
    int listing_fd = ::openat(folder_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* listing = listing_fd >= 0 ? ::fdopendir(listing_fd) : nullptr;
    if (listing == nullptr) {
        if (listing_fd >= 0) ::close(listing_fd);
        return names;
    }
    while (dirent* entry = ::readdir(listing)) {
        std::string_view name = entry->d_name;
        if (name != "." && name != "..") names.emplace_back(name);
    }
    ::closedir(listing);
    return names;
}

// Removes what `folder_fd` holds; subfolders are opened with O_NOFOLLOW, so a link swapped in
// for one is never entered (unlinkat removes a link itself).
bool remove_contents(int folder_fd, int depth) {
    if (depth > kMaxRemovalDepth) return false;
    bool complete = true;
    for (const std::string& name : names_in(folder_fd)) {
        if (::unlinkat(folder_fd, name.c_str(), 0) == 0) continue;
        if (errno != EISDIR) {
            complete = false;
            continue;
        }
        FileDescriptor sub(
            ::openat(folder_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub.valid() || !remove_contents(sub.get(), depth + 1) ||
            ::unlinkat(folder_fd, name.c_str(), AT_REMOVEDIR) != 0)
            complete = false;
    }
    return complete;
}

}  // namespace

std::string untrusted_writer(const struct stat& folder, const struct stat& entry) {
    if (!trusted_user(folder.st_uid)) return "user " + user_name(folder.st_uid);
    bool sticky = (folder.st_mode & S_ISVTX) != 0;
    bool others_write = (folder.st_mode & S_IWOTH) != 0;
    bool group_writes = (folder.st_mode & S_IWGRP) != 0 && !trusted_group(folder.st_gid);
    if (!others_write && !group_writes) return {};
    // In a sticky folder (/tmp) only an entry's owner can replace it.
    if (sticky) return trusted_user(entry.st_uid) ? "" : "user " + user_name(entry.st_uid);
    return others_write ? "every user" : "group " + group_name(folder.st_gid);
}

std::pair<std::string, std::string> split_path(const std::string& path) {
    size_t slash = path.rfind('/');
    if (slash == std::string::npos) return {".", path};
    return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

Folder open_folder(const std::string& path) {
    Folder result;
    result.path = path;
    FileDescriptor current(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
    struct stat current_info {};
    if (!current.valid() || ::fstat(current.get(), &current_info) != 0) {
        result.error = fmt::format("/: {}", std::strerror(errno));
        return result;
    }
    std::deque<std::string> pending = components(absolute(path));
    std::string shown;  // the absolute path walked so far, as the messages name it
    int links = 0;
    while (!pending.empty()) {
        std::string name = std::move(pending.front());
        pending.pop_front();
        if (name == ".") continue;
        std::string here = shown + "/" + name;
        FileDescriptor next(::openat(current.get(), name.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC));
        struct stat info {};
        if (!next.valid() || ::fstat(next.get(), &info) != 0) {
            result.missing = errno == ENOENT;
            result.error = fmt::format("{}: {}", here, std::strerror(errno));
            return result;
        }
        if (S_ISLNK(info.st_mode)) {
            if (std::string writer = untrusted_writer(current_info, info); !writer.empty()) {
                result.error = refused_link(here, writer);
                return result;
            }
            std::string target = link_target(next.get());
            if (++links > kMaxLinks || target.empty()) {
                result.error = fmt::format("{}: {}", here, std::strerror(ELOOP));
                return result;
            }
            std::deque<std::string> target_components = components(target);
            pending.insert(pending.begin(), target_components.begin(), target_components.end());
            if (target.starts_with('/')) {
                current.reset(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
                ::fstat(current.get(), &current_info);
            }
            shown = here;
            continue;
        }
        if (!S_ISDIR(info.st_mode)) {
            result.error = fmt::format("{} is not a folder", here);
            return result;
        }
        current = std::move(next);
        current_info = info;
        shown = here;
    }
    result.fd = std::move(current);
    result.info = current_info;
    return result;
}

Folder open_subfolder(const Folder& parent, const std::string& name) {
    Folder result;
    result.path = joined(parent.path, name);
    FileDescriptor fd(
        ::openat(parent.fd.get(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd.valid() || ::fstat(fd.get(), &result.info) != 0) {
        result.missing = errno == ENOENT;
        result.error = errno == ENOTDIR
                           ? fmt::format("{} is not a folder (or is a symbolic link)", result.path)
                           : fmt::format("{}: {}", result.path, std::strerror(errno));
        return result;
    }
    result.fd = std::move(fd);
    return result;
}

OpenedFile open_in_folder(const Folder& folder, const std::string& name, Access access,
                          Creator creator) {
    return open_in_folder_at_depth(folder, name, access, creator, 0);
}

OpenedFile open_file(const std::string& path, Access access, Creator creator) {
    return open_file_at_depth(path, access, creator, 0);
}

OpenedFile replace_file(const std::string& path, std::string_view contents, mode_t mode) {
    auto [folder_path, name] = split_path(path);
    Folder folder = open_folder(folder_path);
    if (!folder.ok()) return failed(folder.error, folder.missing);
    OpenedFile result;
    std::string temporary;
    for (int attempt = 0; attempt < 10 && !result.fd.valid(); ++attempt) {
        temporary = name + ".tmp" + random_suffix();
        result.fd.reset(::openat(folder.fd.get(), temporary.c_str(),
                                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
        if (!result.fd.valid() && errno != EEXIST) break;
    }
    if (!result.fd.valid())
        return failed(
            fmt::format("cannot create a temporary file for {}: {}", path, std::strerror(errno)));
    bool written = ::write(result.fd.get(), contents.data(), contents.size()) ==
                   static_cast<ssize_t>(contents.size());
    int error = errno;
    if (written) {
        ::fchmod(result.fd.get(), mode);  // whatever the umask
        if (::renameat(folder.fd.get(), temporary.c_str(), folder.fd.get(), name.c_str()) == 0 &&
            ::fstat(result.fd.get(), &result.info) == 0)
            return result;
        error = errno;
    }
    ::unlinkat(folder.fd.get(), temporary.c_str(), 0);
    return failed(fmt::format("cannot write {}: {}", path, std::strerror(error)));
}

OpenedFile create_unnamed_file(const std::string& folder_path) {
    Folder folder = open_folder(folder_path);
    if (!folder.ok()) return failed(folder.error, folder.missing);
    OpenedFile result;
    result.fd.reset(::openat(folder.fd.get(), ".", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
    for (int attempt = 0; attempt < 10 && !result.fd.valid(); ++attempt) {
        std::string name = "passenger-buffer." + random_suffix();
        result.fd.reset(::openat(folder.fd.get(), name.c_str(),
                                 O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (result.fd.valid())
            ::unlinkat(folder.fd.get(), name.c_str(), 0);
        else if (errno != EEXIST)
            break;
    }
    if (!result.fd.valid()) return failed(fmt::format("{}: {}", folder_path, std::strerror(errno)));
    return result;
}

std::string make_random_folder(const Folder& parent, const std::string& prefix, mode_t mode) {
    for (int attempt = 0; attempt < 10; ++attempt) {
        std::string name = prefix + random_suffix();
        if (::mkdirat(parent.fd.get(), name.c_str(), 0700) != 0) {
            if (errno == EEXIST) continue;
            return {};
        }
        FileDescriptor created(::openat(parent.fd.get(), name.c_str(),
                                        O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!created.valid() || ::fchmod(created.get(), mode) != 0) {
            int error = errno;
            ::unlinkat(parent.fd.get(), name.c_str(), AT_REMOVEDIR);
            errno = error;
            return {};
        }
        return name;
    }
    errno = EEXIST;
    return {};
}

std::vector<std::string> list_names(const Folder& folder) {
    return names_in(folder.fd.get());
}

bool remove_file(const std::string& path) {
    auto [folder_path, name] = split_path(path);
    Folder folder = open_folder(folder_path);
    return folder.ok() && ::unlinkat(folder.fd.get(), name.c_str(), 0) == 0;
}

std::string describe(std::string_view what, const std::string& path, const std::string& error) {
    if (error.starts_with(path)) return fmt::format("{} {}", what, error);
    return fmt::format("{} {}: {}", what, path, error);
}

namespace {

bool remove_owned_tree(const Folder& parent, const std::string& name, uid_t owner,
                       bool unless_in_use) {
    FileDescriptor fd(
        ::openat(parent.fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat info {};
    if (!fd.valid() || ::fstat(fd.get(), &info) != 0 || info.st_uid != owner) return false;
    if (unless_in_use && !folder_in_use::take_if_unused(fd.get())) return false;
    remove_contents(fd.get(), 0);
    return ::unlinkat(parent.fd.get(), name.c_str(), AT_REMOVEDIR) == 0;
}

}  // namespace

bool remove_tree(const Folder& parent, const std::string& name, uid_t owner) {
    return remove_owned_tree(parent, name, owner, false);
}

bool remove_unused_tree(const Folder& parent, const std::string& name, uid_t owner) {
    return remove_owned_tree(parent, name, owner, true);
}

}  // namespace passenger::safe_file

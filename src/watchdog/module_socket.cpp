#include "watchdog/module_socket.hpp"

#include "common/folder_in_use.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::watchdog {
namespace {

constexpr const char* kSocketName = "core.sock";

std::string system_error(std::string_view what) {
    return fmt::format("{}: {}", what, std::strerror(errno));
}

// Binds and listens; the folder is still ours alone (0700), so nobody can interfere.
std::string bind_in(ModuleSocket& result) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (result.path.size() >= sizeof address.sun_path) return "socket path too long";
    std::memcpy(address.sun_path, result.path.c_str(), result.path.size() + 1);
    result.socket.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!result.socket.valid()) return system_error("socket()");
    if (::bind(result.socket.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0)
        return system_error(fmt::format("bind({})", result.path));
    if (::listen(result.socket.get(), SOMAXCONN) != 0) return system_error("listen()");
    return {};
}

// Hands folder and socket to the worker user, through the folder's descriptor (no path lookup
// that a symlink could redirect).
std::string give_to(const ModuleSocket& result, const std::string& worker_user) {
    if (worker_user.empty() || ::geteuid() != 0) return {};
    passwd* user = ::getpwnam(worker_user.c_str());
    if (user == nullptr) return fmt::format("no such user: {}", worker_user);
    FileDescriptor folder(::open(result.folder.c_str(), O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!folder.valid()) return system_error(result.folder);
    if (::fchownat(folder.get(), kSocketName, user->pw_uid, user->pw_gid, AT_SYMLINK_NOFOLLOW) != 0)
        return system_error("chown socket");
    if (::fchown(folder.get(), user->pw_uid, user->pw_gid) != 0)
        return system_error("chown folder");
    return {};
}

}  // namespace

ModuleSocket bind_module_socket(const std::string& worker_user) {
    ModuleSocket result;
    std::string folder = fmt::format("/tmp/{}{}.XXXXXX", module_socket_dir_kind, ::getpid());
    if (::mkdtemp(folder.data()) == nullptr) {  // a new folder, mode 0700
        result.error = system_error("cannot create a folder in /tmp");
        return result;
    }
    result.folder = folder;
    result.path = result.folder + "/" + kSocketName;
    result.in_use = folder_in_use::hold(folder);
    if (!result.in_use.valid()) {
        result.error = system_error("cannot lock " + folder + " as in use");
        ::rmdir(folder.c_str());
        return result;
    }
    mode_t old_mask = ::umask(0077);  // the socket file: 0600
    std::string error = bind_in(result);
    ::umask(old_mask);
    if (error.empty()) error = give_to(result, worker_user);
    if (!error.empty()) {
        remove_module_socket(result);
        result = ModuleSocket{};
        result.error = error;
    }
    return result;
}

void remove_module_socket(const ModuleSocket& socket) {
    if (socket.folder.empty()) return;
    FileDescriptor folder(::open(socket.folder.c_str(), O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (folder.valid()) ::unlinkat(folder.get(), kSocketName, 0);
    ::rmdir(socket.folder.c_str());
}

}  // namespace passenger::watchdog

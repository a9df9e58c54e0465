#include "watchdog/pid_file.hpp"

#include "common/safe_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>

namespace passenger::watchdog {

PidFileContents read_pid_file(const std::string& path) {
    PidFileContents result;
    safe_file::OpenedFile file = safe_file::open_file(path, safe_file::Access::read);
    if (!file.ok()) {
        if (!file.missing) {
            result.state = PidFileContents::State::unreadable;
            result.error = safe_file::describe("pid file", path, file.error);
        }
        return result;
    }
    char buffer[32];
    ssize_t length = ::read(file.fd.get(), buffer, sizeof buffer - 1);
    std::string_view text(buffer, length > 0 ? static_cast<size_t>(length) : 0);
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
    pid_t pid = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), pid);
    if (text.empty() || error != std::errc() || end != text.data() + text.size() || pid <= 0) {
        result.state = PidFileContents::State::malformed;
        result.error = fmt::format("pid file {} does not contain a process id", path);
        return result;
    }
    result.state = PidFileContents::State::valid;
    result.pid = pid;
    result.device = file.info.st_dev;
    result.inode = file.info.st_ino;
    return result;
}

WrittenPidFile write_pid_file(const std::string& path, pid_t pid) {
    // Not given to the folder's owner: they could then write another pid into it.
    safe_file::OpenedFile file = safe_file::replace_file(path, fmt::format("{}\n", pid), 0644);
    WrittenPidFile result;
    if (file.ok())
        result.file = std::move(file.fd);
    else
        result.error = safe_file::describe("cannot write pid file", path, file.error);
    return result;
}

void remove_pid_file_if_owned(const std::string& path, pid_t pid) {
    PidFileContents contents = read_pid_file(path);
    if (contents.state == PidFileContents::State::valid && contents.pid == pid)
        safe_file::remove_file(path);
}

bool process_is_alive(pid_t pid) {
    return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

PidFileHolder pid_file_holder(const PidFileContents& contents) {
    std::string fd_folder = fmt::format("/proc/{}/fd", contents.pid);
    DIR* listing = ::opendir(fd_folder.c_str());
    if (listing == nullptr) return PidFileHolder::unknown;
    PidFileHolder result = PidFileHolder::other_process;
    while (dirent* entry = ::readdir(listing)) {
        struct stat info {};
        if (entry->d_name[0] == '.' || ::fstatat(::dirfd(listing), entry->d_name, &info, 0) != 0)
            continue;
        if (info.st_dev == contents.device && info.st_ino == contents.inode) {
            result = PidFileHolder::server;
            break;
        }
    }
    ::closedir(listing);
    return result;
}

std::string check_pid_file_holder(const std::string& path, const PidFileContents& contents) {
    switch (pid_file_holder(contents)) {
        case PidFileHolder::server:
            return {};
        case PidFileHolder::unknown:
            return fmt::format("cannot check that process {} (pid file {}) is the server: {}",
                               contents.pid, path, std::strerror(errno));
        case PidFileHolder::other_process:
            break;
    }
    return fmt::format(
        "process {} (pid file {}) is not the server that wrote that file (it does not hold it "
        "open); not signalling it",
        contents.pid, path);
}

}  // namespace passenger::watchdog

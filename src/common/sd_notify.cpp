#include "common/sd_notify.hpp"

#include "common/file_descriptor.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

namespace passenger {
namespace {

std::string notify_socket;

}  // namespace

void take_notify_socket_from_environment() {
    if (const char* value = std::getenv("NOTIFY_SOCKET")) notify_socket = value;
    ::unsetenv("NOTIFY_SOCKET");
}

std::string notify_systemd(std::string_view state) {
    if (notify_socket.empty()) return {};
    return send_notification(notify_socket, state);
}

std::string send_notification(const std::string& socket, std::string_view state) {
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket.empty() || (socket.front() != '/' && socket.front() != '@') ||
        socket.size() >= sizeof address.sun_path)
        return fmt::format("NOTIFY_SOCKET '{}' is not a Unix socket address", socket);
    std::memcpy(address.sun_path, socket.data(), socket.size());
    if (socket.front() == '@') address.sun_path[0] = '\0';  // abstract: no terminating NUL
    const auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket.size() +
                                               (socket.front() == '/' ? 1 : 0));
    FileDescriptor fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd.valid()) return fmt::format("cannot create a socket: {}", std::strerror(errno));
    if (::sendto(fd.get(), state.data(), state.size(), MSG_NOSIGNAL,
                 reinterpret_cast<const sockaddr*>(&address), length) < 0)
        return fmt::format("cannot notify systemd at {}: {}", socket, std::strerror(errno));
    return {};
}

}  // namespace passenger

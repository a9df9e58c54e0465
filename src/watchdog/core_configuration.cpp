#include "watchdog/core_configuration.hpp"

#include "common/file_descriptor.hpp"
#include "config/module_configuration.hpp"

#include <fmt/format.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace passenger::watchdog {
namespace {

// Blocking: the module writes a frame at once.
bool read_exactly(int fd, char* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::read(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        size -= static_cast<size_t>(n);
    }
    return true;
}

void put_length(std::string& out, uint32_t length) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(length >> shift));
}

}  // namespace

std::string read_configuration_frame(int lifeline_fd, std::string& payload) {
    unsigned char length_bytes[4];
    if (!read_exactly(lifeline_fd, reinterpret_cast<char*>(length_bytes), 4))
        return "the configuration message is truncated";
    uint32_t length = (uint32_t(length_bytes[0]) << 24) | (uint32_t(length_bytes[1]) << 16) |
                      (uint32_t(length_bytes[2]) << 8) | uint32_t(length_bytes[3]);
    if (length > config::kMaxConfiguration) return "the configuration message is too large";
    payload.assign(length, '\0');
    if (!read_exactly(lifeline_fd, payload.data(), length))
        return "the configuration message is truncated";
    return {};
}

std::string send_configuration_to_core(int listen_fd, const std::string& payload) {
    sockaddr_un address{};
    socklen_t address_length = sizeof address;
    if (::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &address_length) != 0 ||
        address.sun_family != AF_UNIX)
        return "the module socket has no path";
    FileDescriptor socket(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!socket.valid()) return fmt::format("socket(): {}", strerror(errno));
    // A wedged core must not stall the watchdog's loop for long.
    timeval timeout{2, 0};
    ::setsockopt(socket.get(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    if (::connect(socket.get(), reinterpret_cast<sockaddr*>(&address), address_length) != 0)
        return fmt::format("connect({}): {}", address.sun_path, strerror(errno));
    std::string message;
    put_length(message, config::kConfigurationMarker);
    put_length(message, static_cast<uint32_t>(payload.size()));
    message += payload;
    const char* data = message.data();
    size_t left = message.size();
    while (left > 0) {
        ssize_t n = ::send(socket.get(), data, left, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return fmt::format("sending to the core: {}", strerror(errno));
        data += n;
        left -= static_cast<size_t>(n);
    }
    return {};
}

}  // namespace passenger::watchdog

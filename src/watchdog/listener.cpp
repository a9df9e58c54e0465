#include "watchdog/listener.hpp"

#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

namespace passenger::watchdog {
namespace {

std::string describe_bind_error(int error) {
    if (error == EADDRINUSE)
        return "address already in use (is another server running on that port?)";
    if (error == EACCES) return "permission denied (ports below 1024 need root)";
    if (error == EADDRNOTAVAIL) return "this machine has no such address";
    return std::strerror(error);
}

}  // namespace

std::string format_host_port(const std::string& address, int port) {
    if (address.find(':') != std::string::npos) return fmt::format("[{}]:{}", address, port);
    return fmt::format("{}:{}", address, port);
}

Listener bind_listener(const std::string& address, int port) {
    Listener result;
    std::string where = format_host_port(address, port);
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    std::string service = std::to_string(port);
    if (int status = ::getaddrinfo(address.c_str(), service.c_str(), &hints, &found); status != 0) {
        result.error = fmt::format("cannot listen on {}: {}", where, ::gai_strerror(status));
        return result;
    }
    // The first address is what the user meant; trying others would listen somewhere unexpected.
    FileDescriptor socket(
        ::socket(found->ai_family, found->ai_socktype | SOCK_CLOEXEC, found->ai_protocol));
    int error = socket.valid() ? 0 : errno;
    if (error == 0) {
        int on = 1;
        // Lets a restarted server bind while old connections linger in TIME_WAIT.
        ::setsockopt(socket.get(), SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(socket.get(), found->ai_addr, found->ai_addrlen) != 0 ||
            ::listen(socket.get(), SOMAXCONN) != 0)
            error = errno;
    }
    ::freeaddrinfo(found);
    if (error != 0) {
        result.error = fmt::format("cannot listen on {}: {}", where, describe_bind_error(error));
        return result;
    }
    result.socket = std::move(socket);
    return result;
}

int local_port(int socket_fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    if (::getsockname(socket_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) return -1;
    if (address.ss_family == AF_INET)
        return ntohs(reinterpret_cast<sockaddr_in*>(&address)->sin_port);
    if (address.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6*>(&address)->sin6_port);
    return -1;
}

}  // namespace passenger::watchdog

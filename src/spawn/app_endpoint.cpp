#include "spawn/app_endpoint.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/un.h>

#include <cstring>

namespace passenger::spawn {

std::string describe(const AppEndpoint& endpoint) {
    const sockaddr* address = endpoint.data();
    if (address->sa_family == AF_UNIX) {
        const auto* unix_address = reinterpret_cast<const sockaddr_un*>(address);
        return fmt::format("unix:{}", unix_address->sun_path);
    }
    if (address->sa_family == AF_INET) {
        const auto* inet = reinterpret_cast<const sockaddr_in*>(address);
        return fmt::format("127.0.0.1:{}", ntohs(inet->sin_port));
    }
    return "unknown";
}

}  // namespace passenger::spawn

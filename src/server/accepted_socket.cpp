#include "server/accepted_socket.hpp"

#include <cstring>

namespace passenger::server {

std::string address_text(const asio::ip::tcp::endpoint& endpoint) {
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
}

std::string address_text(const sockaddr_storage& address, socklen_t length) {
    if (address.ss_family != AF_INET && address.ss_family != AF_INET6) return {};
    asio::ip::tcp::endpoint endpoint;
    if (length > endpoint.capacity()) return {};
    std::memcpy(endpoint.data(), &address, length);
    endpoint.resize(length);
    return address_text(endpoint);
}

}  // namespace passenger::server

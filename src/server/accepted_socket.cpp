#include "server/accepted_socket.hpp"

#include <asio/detail/socket_ops.hpp>

#include <cstring>
#include <utility>

namespace passenger::server {
namespace {

// Asio has no public way to say what it is told here: its socket state is reachable only from
// a derived class (basic_socket's protected implementation). The state is moved with the socket.
class AdoptedSocket : public asio::ip::tcp::socket {
  public:
    AdoptedSocket(asio::io_context& io, asio::ip::tcp protocol, int fd, asio::error_code& error)
        : asio::ip::tcp::socket(io) {
        assign(protocol, fd, error);
        if (error) return;
        namespace ops = asio::detail::socket_ops;
        auto& state = impl_.get_implementation().state_;
        state =
            static_cast<ops::state_type>((state & ~ops::possible_dup) | ops::internal_non_blocking);
    }
};

}  // namespace

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

asio::ip::tcp::socket adopt_accepted(asio::io_context& io, asio::ip::tcp protocol, int fd,
                                     asio::error_code& error) {
    AdoptedSocket adopted(io, protocol, fd, error);
    return asio::ip::tcp::socket(std::move(adopted));
}

}  // namespace passenger::server

// A connected loopback TCP pair on one io_context, for unit tests of socket code.
#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace passenger::testing {

struct SocketPair {
    asio::io_context io;
    asio::ip::tcp::socket near{io};  // the side under test (the server's)
    asio::ip::tcp::socket far{io};   // the peer (the client)

    explicit SocketPair(int buffer_size = 0) {
        asio::ip::tcp::acceptor acceptor(
            io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        far.connect(acceptor.local_endpoint());
        acceptor.accept(near);
        if (buffer_size > 0) {
            near.set_option(asio::socket_base::send_buffer_size(buffer_size));
            far.set_option(asio::socket_base::receive_buffer_size(buffer_size));
        }
    }
};

}  // namespace passenger::testing

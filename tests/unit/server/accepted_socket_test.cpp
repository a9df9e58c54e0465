// What an accepted connection brings along (server/accepted_socket.hpp) and the listener's part
// in it: the peer's address from accept4's sockaddr, asio told the socket is non-blocking, and
// Nagle's algorithm off from the listener (no syscall per connection for any of these).
#include "server/accepted_socket.hpp"
#include "common/event_loops.hpp"
#include "server/server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>
#include <cstring>
#include <filesystem>
#include <utility>

namespace passenger::server {
namespace {

// accept4's sockaddr for an IPv6 peer at `text`, as address_text gets it.
std::string text_of_accepted_v6(const char* text) {
    sockaddr_storage storage{};
    auto* address = reinterpret_cast<sockaddr_in6*>(&storage);
    address->sin6_family = AF_INET6;
    address->sin6_port = htons(40000);
    EXPECT_EQ(::inet_pton(AF_INET6, text, &address->sin6_addr), 1);
    return address_text(storage, sizeof(sockaddr_in6));
}

TEST(AcceptedSocket, AddressTextFromAcceptsSockaddr) {
    sockaddr_storage storage{};
    auto* v4 = reinterpret_cast<sockaddr_in*>(&storage);
    v4->sin_family = AF_INET;
    v4->sin_port = htons(40000);
    ASSERT_EQ(::inet_pton(AF_INET, "203.0.113.9", &v4->sin_addr), 1);
    EXPECT_EQ(address_text(storage, sizeof(sockaddr_in)), "203.0.113.9");

    // A client of an IPv6 listener that connected over IPv4: shown as IPv4, as nginx does.
    EXPECT_EQ(text_of_accepted_v6("::ffff:192.0.2.7"), "192.0.2.7");
    EXPECT_EQ(text_of_accepted_v6("2001:db8::1"), "2001:db8::1");

    sockaddr_storage unix_peer{};
    unix_peer.ss_family = AF_UNIX;
    EXPECT_EQ(address_text(unix_peer, sizeof(sockaddr_un)), "");
}

// A connected pair over loopback: `accepted` from accept4 as the server takes it.
struct LoopbackPair {
    explicit LoopbackPair(int listen_fd) {
        sockaddr_in address{};
        socklen_t length = sizeof address;
        ::getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length);
        client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        connected = ::connect(client, reinterpret_cast<sockaddr*>(&address), length) == 0;
        accepted = ::accept4(listen_fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    }
    ~LoopbackPair() {
        ::close(client);
        if (accepted >= 0) ::close(accepted);
    }
    int client = -1;
    int accepted = -1;
    bool connected = false;
};

TEST(AcceptedSocket, AdoptedAsNonBlockingWithoutAskingTheKernelAndStillServes) {
    asio::io_context io;
    asio::ip::tcp::acceptor listener(io, {asio::ip::address_v4::loopback(), 0});
    LoopbackPair pair(listener.native_handle());
    ASSERT_TRUE(pair.connected);
    ASSERT_GE(pair.accepted, 0);

    asio::error_code error;
    asio::ip::tcp::socket socket = adopt_accepted(io, asio::ip::tcp::v4(), pair.accepted, error);
    ASSERT_FALSE(error);
    pair.accepted = -1;  // the socket's now
    // Asio knows before any operation; after a plain assign() it does not, and sets it by an
    // ioctl on the first.
    EXPECT_TRUE(socket.native_non_blocking());
    LoopbackPair other(listener.native_handle());
    asio::ip::tcp::socket assigned(io);
    assigned.assign(asio::ip::tcp::v4(), std::exchange(other.accepted, -1));
    EXPECT_FALSE(assigned.native_non_blocking());
    EXPECT_FALSE(socket.non_blocking());  // synchronous calls still wait, as asio's own accept's

    std::string received(5, '\0');
    asio::async_read(socket, asio::buffer(received), [](const asio::error_code&, size_t) {});
    ASSERT_EQ(::write(pair.client, "hello", 5), 5);
    io.run();
    EXPECT_EQ(received, "hello");
    socket.close();
    char byte = 0;
    EXPECT_EQ(::read(pair.client, &byte, 1), 0);  // closed: the client sees the end
}

TEST(AcceptedSocket, TheServersListenerGivesEachConnectionNagleOff) {
    const std::filesystem::path root = std::filesystem::temp_directory_path() / "accepted-socket";
    std::filesystem::create_directories(root);
    config::Options options;
    options.app_root = root.string();
    EventLoops loops(1);
    asio::ip::tcp::acceptor listener(loops.main(), {asio::ip::address_v4::loopback(), 0});
    const int listen_fd = listener.release();
    Server server(loops, options, listen_fd);
    // Linux copies the option from the listening socket to each socket accepted from it.
    LoopbackPair pair(listen_fd);
    ASSERT_GE(pair.accepted, 0);
    int no_delay = 0;
    socklen_t length = sizeof no_delay;
    ASSERT_EQ(::getsockopt(pair.accepted, IPPROTO_TCP, TCP_NODELAY, &no_delay, &length), 0);
    EXPECT_EQ(no_delay, 1);
    // Without the server's setting a listener passes Nagle on.
    asio::ip::tcp::acceptor plain(loops.main(), {asio::ip::address_v4::loopback(), 0});
    LoopbackPair plain_pair(plain.native_handle());
    ASSERT_EQ(::getsockopt(plain_pair.accepted, IPPROTO_TCP, TCP_NODELAY, &no_delay, &length), 0);
    EXPECT_EQ(no_delay, 0);
    std::filesystem::remove_all(root);
}

}  // namespace
}  // namespace passenger::server

#include "watchdog/listener.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>

namespace passenger::watchdog {
namespace {

TEST(Listener, BindsAFreePort) {
    Listener listener = bind_listener("127.0.0.1", 0);
    ASSERT_EQ(listener.error, "");
    ASSERT_TRUE(listener.socket.valid());
    EXPECT_GT(local_port(listener.socket.get()), 0);
}

TEST(Listener, SocketIsCloseOnExecSoOnlyTheCoreGetsIt) {
    Listener listener = bind_listener("127.0.0.1", 0);
    ASSERT_TRUE(listener.socket.valid());
    EXPECT_TRUE(::fcntl(listener.socket.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(Listener, PortInUseIsOneClearLine) {
    Listener first = bind_listener("127.0.0.1", 0);
    ASSERT_TRUE(first.socket.valid());
    int port = local_port(first.socket.get());
    Listener second = bind_listener("127.0.0.1", port);
    EXPECT_FALSE(second.socket.valid());
    EXPECT_EQ(second.error, "cannot listen on 127.0.0.1:" + std::to_string(port) +
                                ": address already in use (is another server running on that "
                                "port?)");
}

TEST(Listener, UnknownHostNamesTheAddress) {
    Listener listener = bind_listener("no.such.host.invalid", 3000);
    EXPECT_FALSE(listener.socket.valid());
    EXPECT_TRUE(listener.error.starts_with("cannot listen on no.such.host.invalid:3000: "))
        << listener.error;
}

TEST(Listener, Ipv6AddressesAreBracketed) {
    EXPECT_EQ(format_host_port("::1", 3000), "[::1]:3000");
    EXPECT_EQ(format_host_port("0.0.0.0", 3000), "0.0.0.0:3000");
}

}  // namespace
}  // namespace passenger::watchdog

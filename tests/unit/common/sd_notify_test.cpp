#include "common/sd_notify.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <string>

namespace passenger {
namespace {

TEST(SdNotify, SendsOneDatagramToTheSocket) {
    const std::string path = "/tmp/sd_notify_test_" + std::to_string(::getpid()) + ".sock";
    ::unlink(path.c_str());
    int fd = ::socket(AF_UNIX, SOCK_DGRAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strcpy(address.sun_path, path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    EXPECT_EQ(send_notification(path, "READY=1"), "");
    char buffer[64] = {};
    EXPECT_EQ(::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT), 7);
    EXPECT_STREQ(buffer, "READY=1");
    ::close(fd);
    ::unlink(path.c_str());
}

TEST(SdNotify, ErrorsAreOneLine) {
    EXPECT_EQ(send_notification("relative", "READY=1"),
              "NOTIFY_SOCKET 'relative' is not a Unix socket address");
    EXPECT_NE(send_notification("/nonexistent/socket", "READY=1").find("cannot notify systemd"),
              std::string::npos);
}

TEST(SdNotify, NothingWithoutNotifySocket) {
    ::unsetenv("NOTIFY_SOCKET");
    take_notify_socket_from_environment();
    EXPECT_EQ(notify_systemd("READY=1"), "");
}

}  // namespace
}  // namespace passenger

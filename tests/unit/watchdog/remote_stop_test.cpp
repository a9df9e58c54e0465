#include "watchdog/remote_stop.hpp"

#include "watchdog/pid_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

namespace passenger::watchdog {
namespace {

using namespace std::chrono_literals;

class RemoteStop : public testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/remote_stop_XXXXXX";
        folder_ = ::mkdtemp(pattern);
        path_ = folder_ + "/passenger.3000.pid";
    }
    void TearDown() override { std::filesystem::remove_all(folder_); }
    std::string folder_, path_;
};

TEST_F(RemoteStop, SignalsTheProcessAndWaitsForIt) {
    pid_t child = ::fork();
    if (child == 0) {
        ::pause();
        ::_exit(0);
    }
    ASSERT_EQ(write_pid_file(path_, child), "");
    EXPECT_EQ(stop_server(path_, 5s), "");
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, WNOHANG), child);  // already exited: no blocking
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
    EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(RemoteStop, GivesUpOnAProcessThatIgnoresSigterm) {
    pid_t child = ::fork();
    if (child == 0) {
        ::signal(SIGTERM, SIG_IGN);
        ::pause();
        ::_exit(0);
    }
    ::usleep(50 * 1000);  // let the child ignore SIGTERM first
    ASSERT_EQ(write_pid_file(path_, child), "");
    EXPECT_EQ(stop_server(path_, 100ms),
              "process " + std::to_string(child) + " did not stop within 0 s");
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
}

TEST_F(RemoteStop, MissingPidFileIsOneLine) {
    EXPECT_EQ(stop_server(path_, 1s),
              "no pid file at " + path_ + " (is the server running, with this port?)");
}

TEST_F(RemoteStop, StalePidFileIsRemoved) {
    pid_t child = ::fork();
    if (child == 0) ::_exit(0);
    ::waitpid(child, nullptr, 0);
    ASSERT_EQ(write_pid_file(path_, child), "");
    EXPECT_EQ(stop_server(path_, 1s), "process " + std::to_string(child) + " from pid file " +
                                          path_ + " is not running; removed the stale file");
    EXPECT_FALSE(std::filesystem::exists(path_));
}

}  // namespace
}  // namespace passenger::watchdog

#include "watchdog/remote_stop.hpp"

#include "watchdog/pid_file.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace passenger::watchdog {
namespace {

using namespace std::chrono_literals;

class RemoteStop : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/remote_stop_XXXXXX";
        folder_ = ::mkdtemp(pattern);
        path_ = folder_ + "/passenger.3000.pid";
    }
    void TearDown() override { std::filesystem::remove_all(folder_); }
    std::string folder_, path_;

    // A child that writes its own pid file and keeps it open, as the watchdog does, then waits
    // for a signal.
    pid_t start_server(bool ignore_sigterm) {
        int ready[2];
        EXPECT_EQ(::pipe(ready), 0);
        pid_t child = ::fork();
        if (child == 0) {
            if (ignore_sigterm) ::signal(SIGTERM, SIG_IGN);
            WrittenPidFile written = write_pid_file(path_, ::getpid());
            [[maybe_unused]] ssize_t ignored = ::write(ready[1], "x", 1);
            while (true) ::pause();
        }
        ::close(ready[1]);
        char byte;
        EXPECT_EQ(::read(ready[0], &byte, 1), 1);
        ::close(ready[0]);
        return child;
    }
};

TEST_F(RemoteStop, SignalsTheProcessAndWaitsForIt) {
    pid_t child = start_server(false);
    EXPECT_EQ(stop_server(path_, 5s), "");
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, WNOHANG), child);  // already exited: no blocking
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGTERM);
    EXPECT_FALSE(std::filesystem::exists(path_));
}

// Plain `passenger stop` sends SIGINT (no drain); `passenger stop --drain` SIGTERM.
TEST_F(RemoteStop, SendsTheSignalItIsGiven) {
    pid_t child = start_server(false);
    EXPECT_EQ(stop_server(path_, 5s, SIGINT), "");
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, WNOHANG), child);
    EXPECT_TRUE(WIFSIGNALED(status));
    EXPECT_EQ(WTERMSIG(status), SIGINT);
}

TEST_F(RemoteStop, GivesUpOnAProcessThatIgnoresSigterm) {
    pid_t child = start_server(true);
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
    ASSERT_EQ(write_pid_file(path_, child).error, "");
    EXPECT_EQ(stop_server(path_, 1s), "process " + std::to_string(child) + " from pid file " +
                                          path_ + " is not running; removed the stale file");
    EXPECT_FALSE(std::filesystem::exists(path_));
}

// Whoever can write the pid file's folder could name any process in it.
TEST_F(RemoteStop, AProcessThatDoesNotHoldThePidFileIsNotSignalled) {
    pid_t child = ::fork();
    if (child == 0) {
        while (true) ::pause();
    }
    ASSERT_EQ(write_pid_file(path_, child).error, "");  // written and closed by us, not the child
    std::string error = stop_server(path_, 1s);
    EXPECT_NE(error.find("process " + std::to_string(child) + " (pid file " + path_ +
                         ") is not the server"),
              std::string::npos)
        << error;
    EXPECT_EQ(::waitpid(child, nullptr, WNOHANG), 0) << "the process was signalled";
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
}

TEST_F(RemoteStop, APidFileThatIsALinkIsRefused) {
    // Root trusts links in its own folders; the pid file must be in another user's folder.
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    std::filesystem::create_symlink(folder_ + "/elsewhere.pid", path_);
    std::ofstream(folder_ + "/elsewhere.pid") << ::getpid() << "\n";
    ASSERT_EQ(::lchown(path_.c_str(), 65534, 65534), 0);  // nobody
    ASSERT_EQ(::chown(folder_.c_str(), 65534, 65534), 0);
    std::string error = stop_server(path_, 1s);
    EXPECT_NE(error.find("pid file " + path_ + " is a symbolic link"), std::string::npos) << error;
}

}  // namespace
}  // namespace passenger::watchdog

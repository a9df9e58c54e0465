#include "spawn/directory_watch.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace passenger::spawn {
namespace {

using namespace std::chrono_literals;

class DirectoryWatchTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/directory-watch-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        directory_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(directory_); }

    // Runs the loop until `changes` reaches `wanted`, or 10 s pass (then the test fails).
    void run_until(asio::io_context& io, const int& changes, int wanted) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (changes < wanted && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
    }

    std::string directory_;
};

TEST_F(DirectoryWatchTest, ReportsASocketBoundInTheDirectory) {
    asio::io_context io;
    int changes = 0;
    DirectoryWatch watch(io, [&] { ++changes; });
    ASSERT_EQ(watch.start(directory_), "");

    // What an app behind a loader does when it listens.
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::string path = directory_ + "/app-0.sock";
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    run_until(io, changes, 1);
    ::close(fd);
    EXPECT_EQ(changes, 1);
}

TEST_F(DirectoryWatchTest, KeepsReportingAfterTheFirstChange) {
    asio::io_context io;
    int changes = 0;
    DirectoryWatch watch(io, [&] { ++changes; });
    ASSERT_EQ(watch.start(directory_), "");
    std::ofstream(directory_ + "/first") << "x";
    run_until(io, changes, 1);
    // A file renamed into place counts, too.
    std::ofstream(directory_ + ".second") << "x";
    std::filesystem::rename(directory_ + ".second", directory_ + "/second");
    run_until(io, changes, 2);
    EXPECT_GE(changes, 2);
}

TEST_F(DirectoryWatchTest, ReportsFailureForAMissingDirectory) {
    asio::io_context io;
    DirectoryWatch watch(io, [] {});
    EXPECT_NE(watch.start(directory_ + "/missing").find("/missing"), std::string::npos);
}

}  // namespace
}  // namespace passenger::spawn

namespace passenger::spawn {
namespace {

TEST_F(DirectoryWatchTest, ADeletedDirectoryIsNoLongerWatchedUntilStartedAgain) {
    asio::io_context io;
    int changes = 0;
    DirectoryWatch watch(io, [&] { ++changes; });
    std::string sub = directory_ + "/sub";
    std::filesystem::create_directory(sub);
    ASSERT_EQ(watch.start(sub, IN_CREATE | IN_DELETE), "");
    EXPECT_TRUE(watch.watching(sub));
    std::filesystem::remove(sub);
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (watch.watching(sub) && std::chrono::steady_clock::now() < deadline) io.run_for(10ms);
    EXPECT_FALSE(watch.watching(sub));

    std::filesystem::create_directory(sub);
    ASSERT_EQ(watch.start(sub), "");
    int before = changes;
    std::ofstream(sub + "/file") << "x";
    run_until(io, changes, before + 1);
    EXPECT_GT(changes, before);
}

}  // namespace
}  // namespace passenger::spawn

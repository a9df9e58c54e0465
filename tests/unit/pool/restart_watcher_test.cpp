#include "pool/restart_watcher.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace passenger::pool {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

class RestartWatcherTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/restart-watcher-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        base_ = pattern;
        app_ = base_ + "/app";
        fs::create_directories(app_ + "/tmp");
    }
    void TearDown() override { fs::remove_all(base_); }

    // Creates `file` or sets its mtime to now plus `ahead` (always a different mtime).
    void touch(const std::string& file, std::chrono::seconds ahead = 0s) {
        std::ofstream(file, std::ios::app).flush();
        timespec times[2];
        ::clock_gettime(CLOCK_REALTIME, &times[0]);
        times[0].tv_sec += ahead.count();
        times[1] = times[0];
        ASSERT_EQ(::utimensat(AT_FDCWD, file.c_str(), times, 0), 0);
    }

    // Runs the loop until `restarts` reaches `wanted`, or 10 s pass (then the test fails).
    void run_until(int wanted) {
        auto deadline = std::chrono::steady_clock::now() + 10s;
        while (restarts_ < wanted && std::chrono::steady_clock::now() < deadline) io_.run_for(10ms);
    }
    // Runs the loop long enough for any pending event to have been handled.
    void settle() { io_.run_for(200ms); }

    asio::io_context io_;
    std::string base_, app_;
    int restarts_ = 0;
};

TEST_F(RestartWatcherTest, TouchingRestartTxtRestartsWithoutARequest) {
    RestartWatcher watcher(io_, app_, 10, [&] { ++restarts_; });
    watcher.start();
    touch(app_ + "/tmp/restart.txt");
    run_until(1);
    EXPECT_EQ(restarts_, 1);
    touch(app_ + "/tmp/restart.txt", 5s);
    run_until(2);
    EXPECT_EQ(restarts_, 2);
}

TEST_F(RestartWatcherTest, TmpDeletedAndCreatedAgainIsStillWatched) {
    RestartWatcher watcher(io_, app_, 10, [&] { ++restarts_; });
    watcher.start();
    for (int round = 1; round <= 3; ++round) {
        fs::remove_all(app_ + "/tmp");
        settle();
        fs::create_directory(app_ + "/tmp");
        settle();
        touch(app_ + "/tmp/restart.txt");
        run_until(round);
        ASSERT_EQ(restarts_, round) << "round " << round;
    }
}

TEST_F(RestartWatcherTest, TmpReplacedByAnotherFolderIsWatched) {
    RestartWatcher watcher(io_, app_, 10, [&] { ++restarts_; });
    watcher.start();
    // The old folder, moved away, no longer counts; the one moved into place does.
    fs::create_directories(base_ + "/new-tmp");
    fs::rename(app_ + "/tmp", base_ + "/old-tmp");
    fs::rename(base_ + "/new-tmp", app_ + "/tmp");
    settle();
    touch(base_ + "/old-tmp/restart.txt");
    settle();
    EXPECT_EQ(restarts_, 0);
    touch(app_ + "/tmp/restart.txt");
    run_until(1);
    EXPECT_EQ(restarts_, 1);
}

TEST_F(RestartWatcherTest, TmpCreatedAfterTheStartIsWatched) {
    fs::remove_all(app_ + "/tmp");
    RestartWatcher watcher(io_, app_, 10, [&] { ++restarts_; });
    watcher.start();
    fs::create_directory(app_ + "/tmp");
    settle();
    touch(app_ + "/tmp/restart.txt");
    run_until(1);
    EXPECT_EQ(restarts_, 1);
}

// The app folder is a symlink (as deploy tools keep `current`) switched to another release whose
// restart.txt is newer: the folder holding the link is watched, so no request is needed.
TEST_F(RestartWatcherTest, ASwitchedSymlinkAppRootIsNoticedWithoutARequest) {
    fs::create_directories(base_ + "/release-2/tmp");
    touch(app_ + "/tmp/restart.txt");
    touch(base_ + "/release-2/tmp/restart.txt", 60s);
    fs::create_directory_symlink(app_, base_ + "/current");
    RestartWatcher watcher(io_, base_ + "/current", 10, [&] { ++restarts_; });
    watcher.start();
    fs::create_directory_symlink(base_ + "/release-2", base_ + "/current.new");
    fs::rename(base_ + "/current.new", base_ + "/current");
    run_until(1);
    EXPECT_EQ(restarts_, 1);
    // And the watch moved to the new release.
    touch(base_ + "/release-2/tmp/restart.txt", 120s);
    run_until(2);
    EXPECT_EQ(restarts_, 2);
}

// What no watch sees (a link switched where nothing watches, or no inotify): the throttled
// check on requests notices.
TEST_F(RestartWatcherTest, RequestsCheckTheFilesWhereNoEventArrives) {
    fs::create_directories(base_ + "/release-2/tmp");
    touch(app_ + "/tmp/restart.txt");
    RestartWatcher watcher(io_, app_, 0, [&] { ++restarts_; });
    watcher.start();
    watcher.stop();  // no more events: only on_request looks
    touch(app_ + "/tmp/restart.txt", 60s);
    settle();
    EXPECT_EQ(restarts_, 0);
    watcher.on_request();
    EXPECT_EQ(restarts_, 1);
}

TEST_F(RestartWatcherTest, NothingAfterStop) {
    RestartWatcher watcher(io_, app_, 0, [&] { ++restarts_; });
    watcher.start();
    watcher.stop();
    touch(app_ + "/tmp/restart.txt");
    settle();
    EXPECT_EQ(restarts_, 0);
}

}  // namespace
}  // namespace passenger::pool

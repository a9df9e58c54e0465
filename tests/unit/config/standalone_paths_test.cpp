#include "config/standalone_paths.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace passenger::config {
namespace {

class StandalonePaths : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/standalone_paths_XXXXXX";
        app_root_ = ::mkdtemp(pattern);
    }
    void TearDown() override { std::filesystem::remove_all(app_root_); }
    std::string app_root_;
};

TEST_F(StandalonePaths, PidAndLogFilesGoInTheAppFolderByDefault) {
    EXPECT_EQ(default_pid_file(app_root_, 3000), app_root_ + "/passenger.3000.pid");
    EXPECT_EQ(default_log_file(app_root_, 3001), app_root_ + "/passenger.3001.log");
}

TEST_F(StandalonePaths, PidFileGoesInTmpPidsWhenItExists) {
    std::filesystem::create_directories(app_root_ + "/tmp/pids");
    EXPECT_EQ(default_pid_file(app_root_, 3000), app_root_ + "/tmp/pids/passenger.3000.pid");
}

TEST_F(StandalonePaths, TmpAloneIsNotEnoughForThePidFile) {
    std::filesystem::create_directories(app_root_ + "/tmp");
    EXPECT_EQ(default_pid_file(app_root_, 3000), app_root_ + "/passenger.3000.pid");
}

TEST_F(StandalonePaths, LogFileGoesInLogWhenItExists) {
    std::filesystem::create_directories(app_root_ + "/log");
    EXPECT_EQ(default_log_file(app_root_, 3000), app_root_ + "/log/passenger.3000.log");
}

TEST(AbsolutePath, ResolvesRelativeToTheGivenFolder) {
    EXPECT_EQ(absolute_path("x.pid", "/home/u"), "/home/u/x.pid");
    EXPECT_EQ(absolute_path("../x.pid", "/home/u"), "/home/x.pid");
    EXPECT_EQ(absolute_path("/var/run/x.pid", "/home/u"), "/var/run/x.pid");
}

}  // namespace
}  // namespace passenger::config

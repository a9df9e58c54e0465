#include "cli/start_options.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace passenger::cli {
namespace {

class StartPaths : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/start_paths_XXXXXX";
        root_ = ::mkdtemp(pattern);
        std::filesystem::create_directories(root_ + "/app/log");
        std::filesystem::create_directories(root_ + "/cwd");
    }
    void TearDown() override { std::filesystem::remove_all(root_); }
    std::string root_;
};

TEST_F(StartPaths, AppDirDefaultsToTheCurrentFolder) {
    StartCommandLine command_line = parse_start_options({});
    ASSERT_EQ(resolve_start_paths(command_line, root_ + "/app"), "");
    EXPECT_EQ(command_line.options.app_root, root_ + "/app");
    EXPECT_EQ(command_line.options.log_file, root_ + "/app/log/passenger.3000.log");
    EXPECT_EQ(command_line.options.pid_file, root_ + "/app/passenger.3000.pid");
}

TEST_F(StartPaths, RelativeAppDirAndFilesAreResolvedAgainstTheCurrentFolder) {
    StartCommandLine command_line = parse_start_options(
        {"../app", "--port", "3005", "--log-file", "x.log", "--pid-file", "/run/x.pid"});
    ASSERT_EQ(resolve_start_paths(command_line, root_ + "/cwd"), "");
    EXPECT_EQ(command_line.options.app_root, root_ + "/app");
    EXPECT_EQ(command_line.options.log_file, root_ + "/cwd/x.log");
    EXPECT_EQ(command_line.options.pid_file, "/run/x.pid");
}

TEST_F(StartPaths, MeteorSettingsFileIsResolvedAgainstTheCurrentFolder) {
    StartCommandLine command_line =
        parse_start_options({"../app", "--meteor-app-settings", "settings.json"});
    ASSERT_EQ(resolve_start_paths(command_line, root_ + "/cwd"), "");
    EXPECT_EQ(command_line.options.meteor_app_settings, root_ + "/cwd/settings.json");
}

TEST_F(StartPaths, SymlinkedAppDirIsResolved) {
    std::filesystem::create_directory_symlink(root_ + "/app", root_ + "/link");
    StartCommandLine command_line = parse_start_options({root_ + "/link"});
    ASSERT_EQ(resolve_start_paths(command_line, "/"), "");
    EXPECT_EQ(command_line.options.app_root, root_ + "/app");
}

TEST_F(StartPaths, MissingAppDirIsOneLine) {
    StartCommandLine command_line = parse_start_options({"nope"});
    EXPECT_EQ(resolve_start_paths(command_line, root_),
              "app folder nope: No such file or directory");
}

TEST_F(StartPaths, AppDirMustBeAFolder) {
    std::string file = root_ + "/app/app.js";
    std::ofstream(file) << "";
    StartCommandLine command_line = parse_start_options({file});
    EXPECT_EQ(resolve_start_paths(command_line, root_), "app folder " + file + " is not a folder");
}

}  // namespace
}  // namespace passenger::cli

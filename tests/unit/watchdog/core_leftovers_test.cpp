#include "watchdog/core_leftovers.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace passenger::watchdog {
namespace {

namespace fs = std::filesystem;

TEST(CoreLeftoversTest, RemovesOnlyTheDeadCoresOwnSocketFolders) {
    char pattern[] = "/tmp/core-leftovers-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const fs::path parent = pattern;
    fs::create_directories(parent / "passenger-core.123.a1b2c3");
    std::ofstream(parent / "passenger-core.123.a1b2c3" / "app-0.sock") << "";
    // What the app user may plant inside its socket folder: links out of it.
    fs::create_directory_symlink(parent / "elsewhere",
                                 parent / "passenger-core.123.a1b2c3" / "linked-folder");
    fs::create_directories(parent / "passenger-core.1234.d4e5f6");  // another core
    std::ofstream(parent / "passenger-core.123.file") << "";        // not a folder
    fs::create_directories(parent / "elsewhere" / "keep");
    fs::create_directory_symlink(parent / "elsewhere", parent / "passenger-core.123.link");

    EXPECT_EQ(remove_core_socket_dirs(123, ::geteuid(), parent.string()), 1);
    EXPECT_FALSE(fs::exists(parent / "passenger-core.123.a1b2c3"));
    EXPECT_TRUE(fs::exists(parent / "passenger-core.1234.d4e5f6"));
    EXPECT_TRUE(fs::exists(parent / "passenger-core.123.file"));
    EXPECT_TRUE(fs::exists(parent / "elsewhere" / "keep")) << "a symlink is not followed";

    // Someone else's folder under the same name is left alone.
    fs::create_directories(parent / "passenger-core.123.other");
    EXPECT_EQ(remove_core_socket_dirs(123, ::geteuid() + 1, parent.string()), 0);
    EXPECT_TRUE(fs::exists(parent / "passenger-core.123.other"));
    fs::remove_all(parent);
}

}  // namespace
}  // namespace passenger::watchdog

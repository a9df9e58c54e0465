#include "watchdog/core_leftovers.hpp"

#include "../dead_pid.hpp"

#include "common/folder_in_use.hpp"

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

TEST(CoreLeftoversTest, RemovesStaleFoldersOfEveryKindWhoseProcessIsGone) {
    char pattern[] = "/tmp/core-leftovers-stale-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const fs::path parent = pattern;
    const std::string gone = std::to_string(passenger::testing::dead_pid());
    const std::string alive = std::to_string(::getpid());
    for (const std::string& name :
         {"passenger-core." + gone + ".a", "passenger-nginx." + gone + ".b",
          "passenger-spawn." + gone + ".c", "passenger-core." + alive + ".d",
          "passenger-core." + gone, "passenger-core.x" + gone + ".e",
          "passenger-corex." + gone + ".f"})
        fs::create_directories(parent / name);
    std::ofstream(parent / ("passenger-core." + gone + ".a") / "app-0.sock") << "";
    fs::create_directories(parent / "elsewhere" / "keep");
    fs::create_directory_symlink(parent / "elsewhere",
                                 parent / ("passenger-core." + gone + ".link"));
    const bool root = ::geteuid() == 0;

    // Folders of another core user stay (the spawn helper's are root's, whoever runs the core).
    EXPECT_EQ(remove_stale_dirs(::geteuid() + 1, parent.string()), root ? 1 : 0);
    EXPECT_TRUE(fs::exists(parent / ("passenger-core." + gone + ".a")));
    EXPECT_EQ(fs::exists(parent / ("passenger-spawn." + gone + ".c")), !root);

    EXPECT_EQ(remove_stale_dirs(::geteuid(), parent.string()), 2);
    EXPECT_FALSE(fs::exists(parent / ("passenger-core." + gone + ".a")));
    EXPECT_FALSE(fs::exists(parent / ("passenger-nginx." + gone + ".b")));
    EXPECT_TRUE(fs::exists(parent / ("passenger-core." + alive + ".d"))) << "its process runs";
    for (const std::string& name : {"passenger-core." + gone, "passenger-core.x" + gone + ".e",
                                    "passenger-corex." + gone + ".f"})
        EXPECT_TRUE(fs::exists(parent / name)) << name << " is no name of ours";
    EXPECT_TRUE(fs::is_symlink(parent / ("passenger-core." + gone + ".link")));
    EXPECT_TRUE(fs::exists(parent / "elsewhere" / "keep")) << "a symlink is not followed";
    fs::remove_all(parent);
}

// Seen from another PID namespace sharing /tmp, a live owner's pid does not exist: its in-use lock
// is what tells its folder from a dead instance's.
TEST(CoreLeftoversTest, KeepsAFolderItsOwnerHoldsInUseWhateverThePidSays) {
    char pattern[] = "/tmp/core-leftovers-in-use-test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    const fs::path parent = pattern;
    const std::string gone = std::to_string(passenger::testing::dead_pid());
    const fs::path core = parent / ("passenger-core." + gone + ".held");
    const fs::path module = parent / ("passenger-nginx." + gone + ".held");
    fs::create_directories(core);
    fs::create_directories(module);
    std::ofstream(core / "app-0.sock") << "";
    {
        FileDescriptor core_in_use = folder_in_use::hold(core.string());
        FileDescriptor module_in_use = folder_in_use::hold(module.string());
        ASSERT_TRUE(core_in_use.valid() && module_in_use.valid());
        EXPECT_EQ(remove_stale_dirs(::geteuid(), parent.string()), 0);
        EXPECT_TRUE(fs::exists(core / "app-0.sock"));
        EXPECT_TRUE(fs::exists(module));
    }
    // Its owner gone (the lock goes with its descriptor), the folder is a leftover.
    EXPECT_EQ(remove_stale_dirs(::geteuid(), parent.string()), 2);
    EXPECT_FALSE(fs::exists(core));
    EXPECT_FALSE(fs::exists(module));
    fs::remove_all(parent);
}

}  // namespace
}  // namespace passenger::watchdog

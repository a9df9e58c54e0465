#include "static/public_directory.hpp"

#include "temp_tree.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace passenger::static_files {
namespace {

using namespace std::chrono_literals;

// Whether `name` can be opened beneath the folder `dir_fd` stands for.
bool has_file(int dir_fd, const char* name) {
    FileDescriptor file(::openat(dir_fd, name, O_RDONLY | O_CLOEXEC));
    return file.get() >= 0;
}

TEST(PublicDirectoryTest, AMissingFolderIsNoDescriptorUntilItAppears) {
    testing::TempTree tree;
    PublicDirectory public_dir(tree.path("public").string(), 1s);
    const auto start = PublicDirectory::Clock::now();
    EXPECT_EQ(public_dir.fd(start), -1);
    tree.write("public/a.txt", "a");
    EXPECT_EQ(public_dir.fd(start + 500ms), -1) << "not looked for again within the interval";
    int fd = public_dir.fd(start + 1s);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(has_file(fd, "a.txt"));
}

TEST(PublicDirectoryTest, AFolderSwappedByADeployIsSeenAfterTheInterval) {
    testing::TempTree tree;
    tree.write("releases/1/public/old.txt", "old");
    tree.write("releases/2/public/new.txt", "new");
    tree.symlink("releases/1", "current");
    PublicDirectory public_dir(tree.path("current/public").string(), 1s);
    const auto start = PublicDirectory::Clock::now();
    int fd = public_dir.fd(start);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(has_file(fd, "old.txt"));

    // The deploy: `current` now points at the new release.
    tree.symlink("releases/2", "current.next");
    ASSERT_EQ(std::rename(tree.path("current.next").c_str(), tree.path("current").c_str()), 0);
    EXPECT_EQ(public_dir.fd(start + 999ms), fd) << "the open folder is kept within the interval";
    fd = public_dir.fd(start + 1s);
    ASSERT_GE(fd, 0);
    EXPECT_TRUE(has_file(fd, "new.txt"));
    EXPECT_FALSE(has_file(fd, "old.txt"));
}

TEST(PublicDirectoryTest, MissesAreForgottenWhenTheFolderIsOpenedAgain) {
    testing::TempTree tree;
    tree.write("public/a.txt", "a");
    PublicDirectory public_dir(tree.path("public").string(), 1s);
    const auto start = PublicDirectory::Clock::now();
    ASSERT_GE(public_dir.fd(start), 0);
    public_dir.remember_missing("b.txt");
    EXPECT_TRUE(public_dir.known_missing("b.txt"));
    EXPECT_FALSE(public_dir.known_missing("a.txt"));
    public_dir.fd(start + 999ms);
    EXPECT_TRUE(public_dir.known_missing("b.txt"));
    public_dir.fd(start + 1s);
    EXPECT_FALSE(public_dir.known_missing("b.txt"));
}

TEST(PublicDirectoryTest, RemembersABoundedNumberOfMisses) {
    testing::TempTree tree;
    PublicDirectory public_dir(tree.path("public").string(), 1s);
    for (size_t i = 0; i < PublicDirectory::max_misses + 10; ++i)
        public_dir.remember_missing("missing-" + std::to_string(i));
    EXPECT_TRUE(public_dir.known_missing("missing-0"));
    EXPECT_FALSE(
        public_dir.known_missing("missing-" + std::to_string(PublicDirectory::max_misses)));
}

}  // namespace
}  // namespace passenger::static_files

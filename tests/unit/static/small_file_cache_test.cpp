#include "static/small_file_cache.hpp"

#include "common/file_descriptor.hpp"

#include "temp_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace passenger::static_files {
namespace {

class SmallFileCacheTest : public ::testing::Test {
  protected:
    void SetUp() override {
        tree_.write("public/a.txt", "alpha");
        root_ = FileDescriptor(::open(tree_.path("public").c_str(), O_PATH | O_DIRECTORY));
        ASSERT_GE(root_.get(), 0);
    }

    // Caches public/<name> the way StaticFiles does: stat, then read.
    void cache(const std::string& name) {
        SmallFileCache::Entry entry;
        entry.served_path = name;
        ASSERT_EQ(::fstatat(root_.get(), name.c_str(), &entry.info, 0), 0);
        entry.content = "as read";
        ASSERT_NE(cache_.insert("/" + name, std::move(entry)), nullptr);
    }

    testing::TempTree tree_;
    FileDescriptor root_;
    SmallFileCache cache_{std::chrono::seconds(0)};
};

TEST_F(SmallFileCacheTest, AnUnchangedFileIsAHit) {
    cache("a.txt");
    const SmallFileCache::Entry* entry = cache_.find(root_.get(), "/a.txt");
    ASSERT_NE(entry, nullptr);
    EXPECT_EQ(entry->content, "as read");
    EXPECT_EQ(cache_.find(root_.get(), "/other.txt"), nullptr);
}

TEST_F(SmallFileCacheTest, AFileReplacedByRenameIsAMissAndIsDropped) {
    cache("a.txt");
    tree_.write("public/a.txt.new", "bravo");  // same size, another inode
    ASSERT_EQ(
        std::rename(tree_.path("public/a.txt.new").c_str(), tree_.path("public/a.txt").c_str()), 0);
    EXPECT_EQ(cache_.find(root_.get(), "/a.txt"), nullptr);
    EXPECT_EQ(cache_.bytes(), 0u);
}

TEST_F(SmallFileCacheTest, AFileThatGrewOrWentAwayIsAMiss) {
    cache("a.txt");
    tree_.write("public/a.txt", "alpha, longer");
    EXPECT_EQ(cache_.find(root_.get(), "/a.txt"), nullptr);
    cache("a.txt");
    ASSERT_EQ(::unlink(tree_.path("public/a.txt").c_str()), 0);
    EXPECT_EQ(cache_.find(root_.get(), "/a.txt"), nullptr);
}

TEST_F(SmallFileCacheTest, AFileChangedJustNowIsNotAdmitted) {
    struct stat info {};
    ASSERT_EQ(::fstatat(root_.get(), "a.txt", &info, 0), 0);
    EXPECT_TRUE(cache_.admits(info));
    SmallFileCache cautious(std::chrono::hours(1));
    EXPECT_FALSE(cautious.admits(info)) << "written a moment ago";
}

TEST_F(SmallFileCacheTest, StaysWithinItsByteBudget) {
    for (int i = 0; i < 200; ++i) {
        SmallFileCache::Entry entry;
        entry.served_path = "a.txt";
        entry.content.assign(16 * 1024, 'x');
        ASSERT_NE(cache_.insert("/file-" + std::to_string(i), std::move(entry)), nullptr);
        EXPECT_LE(cache_.bytes(), SmallFileCache::max_bytes);
    }
    SmallFileCache::Entry huge;
    huge.content.assign(SmallFileCache::max_bytes, 'x');
    EXPECT_EQ(cache_.insert("/huge", std::move(huge)), nullptr);
}

}  // namespace
}  // namespace passenger::static_files

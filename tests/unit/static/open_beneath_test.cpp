#include "static/open_beneath.hpp"

#include "temp_tree.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <string>

namespace passenger::static_files {
namespace {

class StaticOpenBeneathTest : public ::testing::TestWithParam<BeneathStrategy> {
  protected:
    void SetUp() override {
        tree_.write("secret.txt", "TOP SECRET");
        tree_.write("public/a/file.txt", "inside");
        tree_.symlink("a/file.txt", "public/link.txt");
        tree_.symlink(tree_.path("public/a/file.txt").string(), "public/abs_link.txt");
        tree_.symlink("../secret.txt", "public/out.txt");
        tree_.symlink(tree_.path("secret.txt").string(), "public/abs_out.txt");
        tree_.symlink("../..", "public/a/up");
        root_path_ = tree_.path("public").string();
        root_ = FileDescriptor(::open(root_path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        ASSERT_GE(root_.get(), 0);
    }

    std::string read(std::string_view relative) {
        FileDescriptor fd = open_beneath(root_.get(), root_path_, relative, GetParam());
        if (fd.get() < 0) return "<not opened>";
        char buffer[64];
        ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
        return n < 0 ? "<read error>" : std::string(buffer, static_cast<size_t>(n));
    }

    testing::TempTree tree_;
    std::string root_path_;
    FileDescriptor root_;
};

TEST_P(StaticOpenBeneathTest, OpensFilesAndInsideSymlinks) {
    EXPECT_EQ(read("a/file.txt"), "inside");
    EXPECT_EQ(read("link.txt"), "inside");
    EXPECT_EQ(read("abs_link.txt"), "inside");
    EXPECT_GE(open_beneath(root_.get(), root_path_, "", GetParam()).get(), 0);
    EXPECT_GE(open_beneath(root_.get(), root_path_, "a/", GetParam()).get(), 0);
}

TEST_P(StaticOpenBeneathTest, RefusesWhatLeavesTheRoot) {
    EXPECT_EQ(read("out.txt"), "<not opened>");
    EXPECT_EQ(read("abs_out.txt"), "<not opened>");
    EXPECT_EQ(read("a/up/secret.txt"), "<not opened>");
    EXPECT_EQ(read("missing"), "<not opened>");
    EXPECT_EQ(read("a/file.txt/"), "<not opened>");
}

INSTANTIATE_TEST_SUITE_P(Strategies, StaticOpenBeneathTest,
                         ::testing::Values(BeneathStrategy::kFastest,
                                           BeneathStrategy::kRealpathOnly));

}  // namespace
}  // namespace passenger::static_files

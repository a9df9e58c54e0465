#include "common/safe_file.hpp"

#include <gtest/gtest.h>
#include <pwd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace passenger::safe_file {
namespace {

namespace fs = std::filesystem;

std::string read_all(const fs::path& path) {
    std::ifstream file(path);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write(const fs::path& path, const std::string& text) {
    std::ofstream(path) << text;
}

std::string read_fd(int fd) {
    char buffer[256];
    ssize_t length = ::pread(fd, buffer, sizeof buffer, 0);
    return length > 0 ? std::string(buffer, static_cast<size_t>(length)) : "";
}

void expect_refused(const OpenedFile& file, const std::string& why) {
    EXPECT_FALSE(file.ok());
    EXPECT_NE(file.error.find(why), std::string::npos) << file.error;
}

// A private folder (mode 0700, ours), removed afterwards.
class SafeFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string pattern = fs::temp_directory_path() / "safe-file-test-XXXXXX";
        ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
        root_ = pattern;
        if (passwd* entry = ::getpwnam("nobody")) {
            other_uid_ = entry->pw_uid;
            other_gid_ = entry->pw_gid;
        }
    }
    void TearDown() override {
        std::error_code ignored;
        fs::remove_all(root_, ignored);
    }

    // A folder owned by another user (root only: chown), as an app folder under --user.
    fs::path others_folder(const std::string& name) {
        fs::path folder = root_ / name;
        fs::create_directory(folder);
        fs::permissions(folder, fs::perms(0755));
        EXPECT_EQ(::chown(folder.c_str(), other_uid_, other_gid_), 0);
        return folder;
    }
    void plant_link(const fs::path& target, const fs::path& link) {
        fs::create_symlink(target, link);
        EXPECT_EQ(::lchown(link.c_str(), other_uid_, other_gid_), 0);
    }
    bool can_switch_owners() const { return ::geteuid() == 0 && other_uid_ != 0; }

    fs::path root_;
    uid_t other_uid_ = 0;
    gid_t other_gid_ = 0;
};

#define REQUIRE_ROOT() \
    if (!can_switch_owners()) GTEST_SKIP() << "needs root and a 'nobody' user (chown)"

TEST_F(SafeFileTest, ReadsAPlainFileInOurFolder) {
    write(root_ / "settings.json", "{}");
    OpenedFile file = open_file(root_ / "settings.json", Access::read);
    ASSERT_TRUE(file.ok()) << file.error;
    EXPECT_EQ(read_fd(file.fd.get()), "{}");
}

TEST_F(SafeFileTest, AMissingFileIsReportedAsMissing) {
    OpenedFile file = open_file(root_ / "nothing-here", Access::read);
    EXPECT_FALSE(file.ok());
    EXPECT_TRUE(file.missing);
    EXPECT_NE(file.error.find((root_ / "nothing-here").string()), std::string::npos) << file.error;
}

TEST_F(SafeFileTest, AMissingFolderIsReportedAsMissing) {
    Folder folder = open_folder(root_ / "no" / "such");
    EXPECT_FALSE(folder.ok());
    EXPECT_TRUE(folder.missing);
}

TEST_F(SafeFileTest, AFileWhereAFolderShouldBeIsNamed) {
    write(root_ / "plain", "");
    Folder folder = open_folder(root_ / "plain" / "below");
    EXPECT_FALSE(folder.ok());
    EXPECT_NE(folder.error.find("is not a folder"), std::string::npos) << folder.error;
}

TEST_F(SafeFileTest, AppendCreatesTheFileAndAppends) {
    fs::path log = root_ / "app.log";
    for (const char* line : {"one\n", "two\n"}) {
        OpenedFile file = open_file(log, Access::append);
        ASSERT_TRUE(file.ok()) << file.error;
        ASSERT_EQ(::write(file.fd.get(), line, 4), 4);
    }
    EXPECT_EQ(read_all(log), "one\ntwo\n");
}

TEST_F(SafeFileTest, ALinkInOurOwnFolderIsFollowed) {
    write(root_ / "real.txt", "real");
    fs::create_symlink("real.txt", root_ / "link.txt");
    fs::create_directory(root_ / "dir");
    fs::create_symlink(root_ / "dir", root_ / "dir-link");
    write(root_ / "dir" / "inner.txt", "inner");

    OpenedFile file = open_file(root_ / "link.txt", Access::read);
    ASSERT_TRUE(file.ok()) << file.error;
    EXPECT_EQ(read_fd(file.fd.get()), "real");
    OpenedFile inner = open_file(root_ / "dir-link" / "inner.txt", Access::read);
    ASSERT_TRUE(inner.ok()) << inner.error;
    EXPECT_EQ(read_fd(inner.fd.get()), "inner");
}

TEST_F(SafeFileTest, ALinkAnotherUserPlantedIsRefusedAndItsTargetUntouched) {
    REQUIRE_ROOT();
    fs::path app = others_folder("app");
    fs::path victim = root_ / "victim.txt";
    plant_link(victim, app / "passenger.80.log");

    OpenedFile file = open_file(app / "passenger.80.log", Access::append);
    EXPECT_FALSE(fs::exists(victim));
    expect_refused(file, (app / "passenger.80.log").string() +
                             " is a symbolic link in a folder that user nobody can write");
}

TEST_F(SafeFileTest, AFolderLinkAnotherUserPlantedIsRefused) {
    REQUIRE_ROOT();
    fs::path app = others_folder("app");
    fs::create_directory(root_ / "private");
    plant_link(root_ / "private", app / "log");

    OpenedFile file = open_file(app / "log" / "passenger.80.log", Access::append);
    EXPECT_TRUE(fs::is_empty(root_ / "private"));
    expect_refused(file, (app / "log").string() + " is a symbolic link");
}

TEST_F(SafeFileTest, AFileCreatedForTheFolderOwnerIsTheirs) {
    REQUIRE_ROOT();
    fs::path app = others_folder("app");
    OpenedFile file = open_file(app / "passenger.80.log", Access::append, Creator::folder_owner);
    ASSERT_TRUE(file.ok()) << file.error;
    EXPECT_EQ(file.info.st_uid, other_uid_);
    // Reopened: the folder owner's own file in their folder is accepted.
    OpenedFile again = open_file(app / "passenger.80.log", Access::append);
    EXPECT_TRUE(again.ok()) << again.error;
}

TEST_F(SafeFileTest, AnotherUsersFileInAFolderEveryoneCanWriteIsRefused) {
    REQUIRE_ROOT();
    fs::path shared = root_ / "shared";
    fs::create_directory(shared);
    fs::permissions(shared, fs::perms(01777));
    write(shared / "passenger.log", "");
    ASSERT_EQ(::chown((shared / "passenger.log").c_str(), other_uid_, other_gid_), 0);

    OpenedFile file = open_file(shared / "passenger.log", Access::append);
    expect_refused(file, "is owned by nobody in a folder that user nobody can write");
}

TEST_F(SafeFileTest, ARootFileWithAnotherHardLinkInAnotherUsersFolderIsRefused) {
    REQUIRE_ROOT();
    fs::path app = others_folder("app");
    write(root_ / "precious", "precious");
    fs::create_hard_link(root_ / "precious", app / "passenger.80.log");

    OpenedFile file = open_file(app / "passenger.80.log", Access::append);
    expect_refused(file, "hard links");
    EXPECT_EQ(read_all(root_ / "precious"), "precious");
}

TEST_F(SafeFileTest, ReplaceFileReplacesALinkInsteadOfWritingThroughIt) {
    write(root_ / "precious", "precious");
    fs::create_symlink(root_ / "precious", root_ / "passenger.80.pid");

    OpenedFile file = replace_file(root_ / "passenger.80.pid", "1234\n", 0644);
    ASSERT_TRUE(file.ok()) << file.error;
    EXPECT_EQ(read_all(root_ / "precious"), "precious");
    EXPECT_TRUE(fs::is_regular_file(fs::symlink_status(root_ / "passenger.80.pid")));
    EXPECT_EQ(read_all(root_ / "passenger.80.pid"), "1234\n");
    // No temporary file is left behind.
    EXPECT_EQ(std::distance(fs::directory_iterator(root_), fs::directory_iterator()), 2);
}

TEST_F(SafeFileTest, RemoveTreeRemovesAFolderWithoutFollowingLinksInIt) {
    Folder parent = open_folder(root_);
    ASSERT_TRUE(parent.ok()) << parent.error;
    fs::create_directories(root_ / "sockets" / "nested");
    write(root_ / "sockets" / "nested" / "file", "x");
    fs::create_directory(root_ / "outside");
    write(root_ / "outside" / "keep", "keep");
    fs::create_symlink(root_ / "outside", root_ / "sockets" / "link");

    EXPECT_TRUE(remove_tree(parent, "sockets", ::geteuid()));
    EXPECT_FALSE(fs::exists(root_ / "sockets"));
    EXPECT_EQ(read_all(root_ / "outside" / "keep"), "keep");
}

TEST_F(SafeFileTest, RemoveTreeLeavesAnotherOwnersFolderAndLinks) {
    Folder parent = open_folder(root_);
    ASSERT_TRUE(parent.ok()) << parent.error;
    fs::create_directory(root_ / "outside");
    fs::create_symlink(root_ / "outside", root_ / "sockets");
    EXPECT_FALSE(remove_tree(parent, "sockets", ::geteuid()));
    EXPECT_TRUE(fs::exists(root_ / "outside"));
    EXPECT_FALSE(remove_tree(parent, "outside", ::geteuid() + 1));
    EXPECT_TRUE(fs::exists(root_ / "outside"));
}

TEST(UntrustedWriterTest, NamesWhoElseCanChangeAnEntry) {
    struct stat folder {};
    struct stat entry {};
    folder.st_uid = ::geteuid();
    folder.st_gid = ::getegid();
    folder.st_mode = S_IFDIR | 0755;
    entry.st_uid = ::geteuid();
    EXPECT_EQ(untrusted_writer(folder, entry), "");
    folder.st_mode = S_IFDIR | 0777;
    EXPECT_EQ(untrusted_writer(folder, entry), "every user");
    folder.st_mode = S_IFDIR | 01777;  // like /tmp: only an entry's owner can replace it
    EXPECT_EQ(untrusted_writer(folder, entry), "");
    entry.st_uid = 4242;
    EXPECT_EQ(untrusted_writer(folder, entry), "user 4242");
    folder.st_mode = S_IFDIR | 0755;
    folder.st_uid = 4242;
    EXPECT_EQ(untrusted_writer(folder, entry), "user 4242");
}

}  // namespace
}  // namespace passenger::safe_file

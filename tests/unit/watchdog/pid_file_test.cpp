#include "watchdog/pid_file.hpp"

#include "../dead_pid.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

namespace passenger::watchdog {
namespace {

class PidFile : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/pid_file_XXXXXX";
        folder_ = ::mkdtemp(pattern);
        path_ = folder_ + "/passenger.3000.pid";
    }
    void TearDown() override { std::filesystem::remove_all(folder_); }
    std::string folder_, path_;
};

TEST_F(PidFile, WrittenPidReadsBack) {
    ASSERT_EQ(write_pid_file(path_, 12345).error, "");
    PidFileContents contents = read_pid_file(path_);
    EXPECT_EQ(contents.state, PidFileContents::State::valid);
    EXPECT_EQ(contents.pid, 12345);
    // No temporary file is left behind.
    EXPECT_EQ(std::distance(std::filesystem::directory_iterator(folder_),
                            std::filesystem::directory_iterator()),
              1);
}

TEST_F(PidFile, MissingFileIsNotAnError) {
    PidFileContents contents = read_pid_file(path_);
    EXPECT_EQ(contents.state, PidFileContents::State::missing);
    EXPECT_EQ(contents.error, "");
}

TEST_F(PidFile, GarbageIsMalformed) {
    for (const char* text : {"", "abc\n", "12x\n", "-5\n", "0\n"}) {
        std::ofstream(path_) << text;
        PidFileContents contents = read_pid_file(path_);
        EXPECT_EQ(contents.state, PidFileContents::State::malformed) << text;
        EXPECT_EQ(contents.error, "pid file " + path_ + " does not contain a process id");
    }
}

TEST_F(PidFile, WritingIntoAMissingFolderFailsWithOneLine) {
    std::string error = write_pid_file(folder_ + "/nope/x.pid", 1).error;
    EXPECT_EQ(error, "cannot write pid file " + folder_ + "/nope/x.pid: " + folder_ +
                         "/nope: No such file or directory");
}

TEST_F(PidFile, RemovesOnlyItsOwnFile) {
    ASSERT_EQ(write_pid_file(path_, 111).error, "");
    remove_pid_file_if_owned(path_, 222);
    EXPECT_TRUE(std::filesystem::exists(path_));
    remove_pid_file_if_owned(path_, 111);
    EXPECT_FALSE(std::filesystem::exists(path_));
}

TEST_F(PidFile, APidIsBelievedOnlyWhileItsProcessHoldsTheFile) {
    WrittenPidFile written = write_pid_file(path_, ::getpid());
    ASSERT_EQ(written.error, "");
    PidFileContents contents = read_pid_file(path_);
    EXPECT_EQ(pid_file_holder(contents), PidFileHolder::server);
    EXPECT_EQ(check_pid_file_holder(path_, contents), "");

    written.file.reset();
    EXPECT_EQ(pid_file_holder(contents), PidFileHolder::other_process);
    EXPECT_NE(check_pid_file_holder(path_, contents).find("is not the server"), std::string::npos);
}

TEST_F(PidFile, ALinkAtThePidFileIsReplacedNotWrittenThrough) {
    std::ofstream(folder_ + "/precious") << "precious";
    std::filesystem::create_symlink(folder_ + "/precious", path_);
    ASSERT_EQ(write_pid_file(path_, 4321).error, "");
    std::ifstream precious(folder_ + "/precious");
    EXPECT_EQ(std::string(std::istreambuf_iterator<char>(precious), {}), "precious");
    EXPECT_EQ(read_pid_file(path_).pid, 4321);
}

TEST(ProcessIsAlive, TellsLiveFromStale) {
    EXPECT_TRUE(process_is_alive(::getpid()));
    EXPECT_TRUE(process_is_alive(1));  // not ours to signal, but alive
    EXPECT_FALSE(process_is_alive(passenger::testing::dead_pid()));
    EXPECT_FALSE(process_is_alive(0));
}

}  // namespace
}  // namespace passenger::watchdog

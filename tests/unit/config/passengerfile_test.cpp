#include "config/passengerfile.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

namespace passenger::config {
namespace {

class PassengerfileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/passengerfile-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }
    void write(const std::string& text) { std::ofstream(dir_ + "/Passengerfile.json") << text; }
    std::string error() {
        auto result = read_passengerfile(dir_);
        auto* message = std::get_if<std::string>(&result);
        return message ? *message : std::string();
    }

    std::string dir_;
};

TEST_F(PassengerfileTest, NoFileIsNoSettings) {
    auto result = read_passengerfile(dir_);
    ASSERT_TRUE(std::holds_alternative<nlohmann::json>(result));
    EXPECT_TRUE(std::get<nlohmann::json>(result).empty());
}

TEST_F(PassengerfileTest, ReadsAnObjectOfSettings) {
    write(R"({"port": 4000, "environment": "production"})");
    auto result = read_passengerfile(dir_);
    ASSERT_TRUE(std::holds_alternative<nlohmann::json>(result));
    EXPECT_EQ(std::get<nlohmann::json>(result).at("port"), 4000);
}

TEST_F(PassengerfileTest, BrokenOrWrongJsonIsAnError) {
    write(R"({"port": 4000,)");
    EXPECT_EQ(error(), "Passengerfile.json: not valid JSON");
    write(R"([1, 2])");
    EXPECT_EQ(error(), "Passengerfile.json: must hold a JSON object of settings");
}

// `sudo passenger start` reads it as root in the app user's folder.
TEST_F(PassengerfileTest, ALinkInAnotherUsersAppFolderIsRefused) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    std::ofstream(dir_ + "/secret") << "root's, not JSON";
    std::filesystem::create_directory(dir_ + "/app");
    std::filesystem::create_symlink(dir_ + "/secret", dir_ + "/app/Passengerfile.json");
    ASSERT_EQ(::lchown((dir_ + "/app/Passengerfile.json").c_str(), 65534, 65534), 0);  // nobody
    ASSERT_EQ(::chown((dir_ + "/app").c_str(), 65534, 65534), 0);
    auto result = read_passengerfile(dir_ + "/app");
    ASSERT_TRUE(std::holds_alternative<std::string>(result));
    EXPECT_EQ(std::get<std::string>(result),
              "Passengerfile.json " + dir_ +
                  "/app/Passengerfile.json is a symbolic link in a folder that user nobody can "
                  "write; refusing to follow it");
}

TEST_F(PassengerfileTest, AnotherUsersFileMayNotNameTheFilesRootWrites) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    write(R"({"pid_file": "/etc/shadow", "environment": "production"})");
    ASSERT_EQ(::chown((dir_ + "/Passengerfile.json").c_str(), 65534, 65534), 0);  // nobody
    EXPECT_EQ(error(),
              "Passengerfile.json: 'pid_file' names a file root writes, and this file belongs to "
              "user nobody; give it on the command line instead");
    write(R"({"environment": "production"})");  // other settings are fine
    EXPECT_EQ(error(), "");
}

}  // namespace
}  // namespace passenger::config

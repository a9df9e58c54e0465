#include "config/passengerfile.hpp"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace passenger::config

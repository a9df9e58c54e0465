#include "cli/module_app_options.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

namespace passenger::cli {
namespace {

class ModuleAppOptionsTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/module-app-options-test.XXXXXX";
        ASSERT_NE(::mkdtemp(pattern), nullptr);
        dir_ = pattern;
        core_.log_file = "/var/log/core.log";
        core_.max_pool_size = 9;
        core_.integration_mode = "nginx";
    }
    void TearDown() override { std::filesystem::remove_all(dir_); }

    std::variant<config::Options, std::string> parse(nlohmann::json settings) {
        settings["app_root"] = dir_;
        return module_app_options(core_, settings);
    }

    std::string dir_;
    config::Options core_;
};

TEST_F(ModuleAppOptionsTest, AppSettingsApplyOverTheCoresOwn) {
    auto result = parse({{"environment", "production"},
                         {"min_instances", "3"},
                         {"sticky_sessions", true},
                         {"app_type", "node"},
                         {"startup_file", "main.js"},
                         {"envvars", {{"A", "1"}}}});
    ASSERT_TRUE(std::holds_alternative<config::Options>(result)) << std::get<std::string>(result);
    const auto& options = std::get<config::Options>(result);
    EXPECT_EQ(options.app_root, std::filesystem::canonical(dir_).string());
    EXPECT_EQ(options.environment, "production");
    EXPECT_EQ(options.min_instances, 3);
    EXPECT_TRUE(options.sticky_sessions);
    EXPECT_EQ(options.startup_file, "main.js");
    EXPECT_EQ(options.envvars.at("A"), "1");
    EXPECT_EQ(options.log_file, "/var/log/core.log");
    EXPECT_EQ(options.max_pool_size, 9);
    EXPECT_EQ(options.integration_mode, "nginx");
}

TEST_F(ModuleAppOptionsTest, BadValuesAreRefusedNamingTheSetting) {
    auto result = parse({{"min_instances", "-1"}});
    ASSERT_TRUE(std::holds_alternative<std::string>(result));
    EXPECT_NE(std::get<std::string>(result).find("--min-instances"), std::string::npos)
        << std::get<std::string>(result);
    auto unknown = parse({{"frobnicate", "1"}});
    ASSERT_TRUE(std::holds_alternative<std::string>(unknown));
    EXPECT_NE(std::get<std::string>(unknown).find("unknown setting 'frobnicate'"),
              std::string::npos);
}

TEST_F(ModuleAppOptionsTest, AccountSettingsAreTheApps) {
    auto defaults = parse({});
    ASSERT_TRUE(std::holds_alternative<config::Options>(defaults));
    EXPECT_TRUE(std::get<config::Options>(defaults).user_switching);
    EXPECT_EQ(std::get<config::Options>(defaults).default_user, "nobody");
    auto result = parse({{"user_switching", "false"},
                         {"user", "alice"},
                         {"group", "staff"},
                         {"default_user", "daemon"},
                         {"default_group", "daemon"}});
    ASSERT_TRUE(std::holds_alternative<config::Options>(result)) << std::get<std::string>(result);
    const auto& options = std::get<config::Options>(result);
    EXPECT_FALSE(options.user_switching);
    EXPECT_EQ(options.app_user, "alice");
    EXPECT_EQ(options.app_group, "staff");
    EXPECT_EQ(options.default_user, "daemon");
    EXPECT_EQ(options.default_group, "daemon");
    auto bad = parse({{"user_switching", "maybe"}});
    ASSERT_TRUE(std::holds_alternative<std::string>(bad));
    EXPECT_EQ(std::get<std::string>(bad), "user_switching: 'maybe' is not true or false");
}

// A deploy switches the link: each spawn resolves it (spawn/Spawner), so the group keeps the link.
TEST_F(ModuleAppOptionsTest, ASymlinkedAppRootStaysTheLink) {
    std::filesystem::create_directory(dir_ + "/release-1");
    std::filesystem::create_directory_symlink("release-1", dir_ + "/current");
    auto result = module_app_options(core_, {{"app_root", dir_ + "/current/"}});
    ASSERT_TRUE(std::holds_alternative<config::Options>(result)) << std::get<std::string>(result);
    EXPECT_EQ(std::get<config::Options>(result).app_root, dir_ + "/current");
}

TEST_F(ModuleAppOptionsTest, TheAppRootMustBeAFolder) {
    auto result = module_app_options(core_, {{"app_root", dir_ + "/missing"}});
    ASSERT_TRUE(std::holds_alternative<std::string>(result));
    EXPECT_NE(std::get<std::string>(result).find("No such file"), std::string::npos);
}

}  // namespace
}  // namespace passenger::cli

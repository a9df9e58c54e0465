#include "config/module_settings.hpp"

#include <gtest/gtest.h>

#include <string>

namespace passenger::config {
namespace {

using namespace std::string_literals;

nlohmann::json settings_of(const std::string& block) {
    auto result = parse_settings_block(block);
    if (auto* reason = std::get_if<std::string>(&result)) {
        ADD_FAILURE() << *reason;
        return nullptr;
    }
    return std::get<nlohmann::json>(result);
}

std::string error_of(const std::string& block) {
    auto result = parse_settings_block(block);
    auto* reason = std::get_if<std::string>(&result);
    return reason ? *reason : "";
}

TEST(ModuleSettings, PairsBecomePassengerfileSettings) {
    nlohmann::json settings = settings_of(
        "app_root\0/srv/app\0environment\0production\0min_instances\0002\0"
        "sticky_sessions\0true\0rolling_restarts\0false\0"s);
    EXPECT_EQ(settings["app_root"], "/srv/app");
    EXPECT_EQ(settings["environment"], "production");
    EXPECT_EQ(settings["min_instances"], "2");
    EXPECT_EQ(settings["sticky_sessions"], true);
    EXPECT_EQ(settings["rolling_restarts"], false);
}

TEST(ModuleSettings, EnvvarPairsGoIntoEnvvars) {
    nlohmann::json settings =
        settings_of("app_root\0/a\0envvar\0A=1\0envvar\0B=x=y\0envvar\0EMPTY=\0"s);
    EXPECT_EQ(settings["envvars"]["A"], "1");
    EXPECT_EQ(settings["envvars"]["B"], "x=y");
    EXPECT_EQ(settings["envvars"]["EMPTY"], "");
}

TEST(ModuleSettings, MalformedBlocksAreRefused) {
    EXPECT_EQ(error_of(""), "no absolute app_root");
    EXPECT_EQ(error_of("app_root\0relative\0"s), "no absolute app_root");
    EXPECT_EQ(error_of("app_root\0/a\0nodejs"s), "a name without a value");
    EXPECT_EQ(error_of("app_root\0/a\0nodejs\0node"s), "a value without its terminating NUL");
    EXPECT_EQ(error_of("app_root\0/a\0\0x\0"s), "an empty name");
    EXPECT_EQ(error_of("app_root\0/a\0app_root\0/b\0"s), "'app_root' appears twice");
    EXPECT_EQ(error_of("app_root\0/a\0envvar\0NOEQUALS\0"s), "envvar 'NOEQUALS' is not NAME=VALUE");
    EXPECT_EQ(error_of("app_root\0/a\0envvars\0x\0"s), "'envvars' appears twice");
}

TEST(ModuleSettings, RequestFields) {
    // Split after "\0": "\0192" would be an octal escape.
    auto fields = parse_request_fields(
        "client_address\0"
        "192.0.2.1\0https\0on\0future\0x\0"s);
    ASSERT_TRUE(std::holds_alternative<RequestFields>(fields));
    EXPECT_EQ(std::get<RequestFields>(fields).client_address, "192.0.2.1");
    EXPECT_TRUE(std::get<RequestFields>(fields).https);
    auto missing = parse_request_fields("https\0on\0"s);
    ASSERT_TRUE(std::holds_alternative<std::string>(missing));
    EXPECT_EQ(std::get<std::string>(missing), "no client_address");
}

}  // namespace
}  // namespace passenger::config

#include "config/module_configuration.hpp"

#include <gtest/gtest.h>

#include <string>

namespace passenger::config {
namespace {

using namespace std::string_literals;

std::string record(const std::string& bytes) {
    std::string out;
    for (int shift = 24; shift >= 0; shift -= 8)
        out.push_back(static_cast<char>(bytes.size() >> shift));
    return out + bytes;
}

TEST(ModuleConfiguration, HttpSettingsPreStartsAndBlocksWithoutRepeats) {
    std::string app_a = "app_root\0/srv/a\0"s;
    std::string app_b = "app_root\0/srv/b\0min_instances\0002\0"s;
    auto parsed = parse_module_configuration(
        record("log_level\0003\0max_pool_size\0004\0pool_idle_time\00030\0"
               "pre_start\0http://127.0.0.1:81/\0pre_start\0http://x/\0"s) +
        record(app_a) + record(app_b) + record(app_a));
    auto* configuration = std::get_if<ModuleConfiguration>(&parsed);
    ASSERT_NE(configuration, nullptr) << std::get<std::string>(parsed);
    EXPECT_EQ(configuration->log_level, 3);
    EXPECT_EQ(configuration->max_pool_size, 4);
    EXPECT_EQ(configuration->pool_idle_time, 30);
    EXPECT_EQ(configuration->pre_start,
              (std::vector<std::string>{"http://127.0.0.1:81/", "http://x/"}));
    EXPECT_EQ(configuration->app_blocks, (std::vector<std::string>{app_a, app_b}));
}

TEST(ModuleConfiguration, NoHttpBlockMeansNoAppsAndNoSettings) {
    auto parsed = parse_module_configuration(record(""));
    auto* configuration = std::get_if<ModuleConfiguration>(&parsed);
    ASSERT_NE(configuration, nullptr);
    EXPECT_FALSE(configuration->max_pool_size);
    EXPECT_TRUE(configuration->app_blocks.empty());
}

TEST(ModuleConfiguration, MalformedMessagesSayWhy) {
    auto error_of = [](const std::string& payload) {
        auto parsed = parse_module_configuration(payload);
        auto* reason = std::get_if<std::string>(&parsed);
        return reason ? *reason : "";
    };
    EXPECT_EQ(error_of(""), "no http{} settings record");
    EXPECT_EQ(error_of(record("max_pool_size\0many\0"s)),
              "max_pool_size 'many' is not a whole number");
    EXPECT_EQ(error_of(record("") + record("app_root\0/a\0"s).substr(0, 6)),
              "a settings block is truncated");
    EXPECT_NE(error_of(record("log_level"s)), "");
}

}  // namespace
}  // namespace passenger::config

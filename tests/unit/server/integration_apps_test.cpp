#include "server/integration_apps.hpp"

#include <gtest/gtest.h>

#include <string>

namespace passenger::server {
namespace {

using namespace std::string_literals;

// The parser the core uses is cli::module_app_options (which needs real folders); this one keeps
// what the test looks at: the app root and the server-wide settings it was given.
std::variant<config::Options, std::string> parse(const config::Options& server_wide,
                                                 const nlohmann::json& settings) {
    config::Options options = server_wide;
    options.app_root = settings.at("app_root").get<std::string>();
    if (settings.contains("environment"))
        options.environment = settings.at("environment").get<std::string>();
    if (options.app_root == "/refused") return std::string("app root /refused is not a folder");
    return options;
}

TEST(IntegrationApps, ConfigureAppliesHttpSettingsAndParsesEveryBlockAnew) {
    config::Options core;
    core.max_pool_size = 6;
    IntegrationApps apps(core, parse);
    auto before = apps.app_for("app_root\0/srv/a\0"s);
    ASSERT_TRUE(before.options);
    EXPECT_EQ(before.options->pool_idle_time_seconds, 300);

    config::ModuleConfiguration configuration;
    configuration.max_pool_size = 3;
    configuration.pool_idle_time = 20;
    configuration.log_level = 4;
    configuration.app_blocks = {"app_root\0/srv/a\0"s, "app_root\0/refused\0"s,
                                "app_root\0/srv/b\0"s};
    auto configured = apps.configure(configuration);
    ASSERT_EQ(configured.size(), 2u) << "the refused block is left out";
    EXPECT_EQ(configured[0].options->app_root, "/srv/a");
    EXPECT_EQ(configured[1].options->app_root, "/srv/b");
    EXPECT_EQ(apps.server_wide().max_pool_size, 3);
    EXPECT_EQ(apps.server_wide().log_level, 4);
    // The same block now gives Options with the new idle time (a new object: the pool adopts it).
    auto after = apps.app_for("app_root\0/srv/a\0"s);
    EXPECT_EQ(after.options->pool_idle_time_seconds, 20);
    EXPECT_NE(after.options, before.options);
    EXPECT_EQ(after.options, configured[0].options);
}

TEST(IntegrationApps, ConfigureWithoutHttpSettingsKeepsTheServerWideOnes) {
    config::Options core;
    core.max_pool_size = 5;
    IntegrationApps apps(core, parse);
    EXPECT_TRUE(apps.configure({}).empty());
    EXPECT_EQ(apps.server_wide().max_pool_size, 5);
}

TEST(IntegrationApps, AnOldWorkersBlockForAConfiguredAppGetsTheCurrentSettings) {
    IntegrationApps apps(config::Options{}, parse);
    config::ModuleConfiguration configuration;
    configuration.app_blocks = {"app_root\0/srv/a\0environment\0staging\0"s};
    auto configured = apps.configure(configuration);
    ASSERT_EQ(configured.size(), 1u);
    // The block of the cycle before the reload (an old nginx worker's request).
    auto old = apps.app_for("app_root\0/srv/a\0environment\0production\0"s);
    ASSERT_TRUE(old.options);
    EXPECT_EQ(old.options, configured[0].options) << "the app is not switched back";
    EXPECT_EQ(old.options->environment, "staging");
    // An app the latest configuration does not have is still served with its own block.
    auto other = apps.app_for("app_root\0/srv/b\0environment\0production\0"s);
    ASSERT_TRUE(other.options);
    EXPECT_EQ(other.options->app_root, "/srv/b");
    EXPECT_EQ(other.options->environment, "production");
}

}  // namespace
}  // namespace passenger::server

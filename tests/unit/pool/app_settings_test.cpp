#include "pool/app_settings.hpp"

#include <gtest/gtest.h>

namespace passenger::pool {
namespace {

TEST(AppSettings, KeyIsTheAppRoot) {
    config::Options options;
    options.app_root = "/srv/shop";
    EXPECT_EQ(group_key(options), "/srv/shop");
}

TEST(AppSettings, FingerprintIgnoresServerWideAndFrontEndSettings) {
    config::Options a;
    a.app_root = "/srv/shop";
    config::Options b = a;
    b.port = 8080;
    b.log_file = "/var/log/other.log";
    b.max_pool_size = 20;
    b.front_end.client_max_body_size = 1;
    EXPECT_EQ(app_settings_fingerprint(a), app_settings_fingerprint(b));
}

TEST(AppSettings, FingerprintChangesWithWhatTheAppRunsWith) {
    config::Options a;
    a.app_root = "/srv/shop";
    const std::string original = app_settings_fingerprint(a);
    config::Options environment = a;
    environment.environment = std::string("production");
    EXPECT_NE(app_settings_fingerprint(environment), original);
    config::Options envvars = a;
    envvars.envvars.emplace("A", "1");
    EXPECT_NE(app_settings_fingerprint(envvars), original);
    config::Options instances = a;
    instances.min_instances = 3;
    EXPECT_NE(app_settings_fingerprint(instances), original);
}

}  // namespace
}  // namespace passenger::pool

#include "config/options.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace passenger::config {

TEST(Options, DefaultsArePassengers) {
    Options options;
    EXPECT_EQ(options.port, 3000);
    EXPECT_EQ(options.environment, "development");
    EXPECT_EQ(options.max_pool_size, 6);
    EXPECT_EQ(options.max_request_queue_size, 100);
    EXPECT_EQ(options.start_timeout_seconds, 90);
}

TEST(Options, SurvivesJsonRoundTrip) {
    Options options;
    options.app_root = "/srv/app";
    options.port = 3001;
    options.envvars["FOO"] = "bar baz";
    nlohmann::json json = options;
    Options copy = json.get<Options>();
    EXPECT_EQ(copy.app_root, "/srv/app");
    EXPECT_EQ(copy.port, 3001);
    EXPECT_EQ(copy.envvars.at("FOO"), "bar baz");
}

}  // namespace passenger::config

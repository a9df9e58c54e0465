#include "server/host_apps.hpp"

#include <gtest/gtest.h>

namespace passenger::server {
namespace {

TEST(HostApps, HostNameWithoutPortInLowerCase) {
    EXPECT_EQ(host_name_of("Example.COM:8080"), "example.com");
    EXPECT_EQ(host_name_of("example.com"), "example.com");
    EXPECT_EQ(host_name_of("[::1]:3000"), "[::1]");
    EXPECT_EQ(host_name_of("[::1]"), "[::1]");
}

http::MessageHead with_host(const char* host) {
    http::MessageHead head;  // only its Host matters
    if (host != nullptr) head.headers.emplace_back("Host", host);
    return head;
}

TEST(HostApps, ChoosesByHostElseTheMainApp) {
    auto main = std::make_shared<config::Options>();
    main->app_root = "/srv/main";
    main->operations.host_apps = {{"other.example", "/srv/other"}};
    HostApps apps(main);
    EXPECT_EQ(apps.for_request(with_host("Other.Example:80")).options->app_root, "/srv/other");
    EXPECT_EQ(apps.for_request(with_host("main.example")).options->app_root, "/srv/main");
    EXPECT_EQ(apps.for_request(with_host(nullptr)).options->app_root, "/srv/main");
    ASSERT_EQ(apps.all().size(), 2u);
    EXPECT_EQ(apps.all()[0], &apps.main());
    // The other app's settings are the main app's with its own folder, naming no apps.
    const config::Options& other = *apps.all()[1]->options;
    EXPECT_TRUE(other.operations.host_apps.empty());
    EXPECT_EQ(other.max_pool_size, main->max_pool_size);
}

}  // namespace
}  // namespace passenger::server

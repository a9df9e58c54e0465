#include "server/pre_start.hpp"

#include <gtest/gtest.h>

namespace passenger::server {
namespace {

PreStartTarget target_of(const std::string& url) {
    auto parsed = parse_pre_start_url(url);
    if (auto* reason = std::get_if<std::string>(&parsed)) ADD_FAILURE() << url << ": " << *reason;
    auto* target = std::get_if<PreStartTarget>(&parsed);
    return target ? *target : PreStartTarget{};
}

std::string error_of(const std::string& url) {
    auto parsed = parse_pre_start_url(url);
    auto* reason = std::get_if<std::string>(&parsed);
    return reason ? *reason : "";
}

TEST(PreStartUrl, HostPortAndPath) {
    PreStartTarget target = target_of("http://127.0.0.1:8080/app/start?x=1");
    EXPECT_EQ(target.host, "127.0.0.1");
    EXPECT_EQ(target.port, "8080");
    EXPECT_EQ(target.path, "/app/start?x=1");
    target = target_of("http://example.org");
    EXPECT_EQ(target.host, "example.org");
    EXPECT_EQ(target.port, "80");
    EXPECT_EQ(target.path, "/");
    target = target_of("http://[::1]:81/");
    EXPECT_EQ(target.host, "[::1]");
    EXPECT_EQ(target.port, "81");
    EXPECT_EQ(target_of("http://[::1]/x").port, "80");
}

TEST(PreStartUrl, BadUrlsSayWhy) {
    EXPECT_EQ(error_of("https://example.org/"), "not an http:// URL");
    EXPECT_EQ(error_of("http:///path"), "no host");
    EXPECT_EQ(error_of("http://host:http/"), "the port is not a number");
    EXPECT_EQ(error_of("http://host:/"), "the port is not a number");
    EXPECT_EQ(error_of("http://[::1/"), "a bad IPv6 host");
}

}  // namespace
}  // namespace passenger::server

#include "http/https_redirect.hpp"

#include <gtest/gtest.h>

namespace passenger::http {
namespace {

MessageHead get(std::string target, HeaderList headers) {
    MessageHead head;
    head.method = "GET";
    head.target = std::move(target);
    head.headers = std::move(headers);
    return head;
}

std::string location_of(const std::string& response) {
    size_t start = response.find("Location: ");
    if (start == std::string::npos) return {};
    start += 10;
    return response.substr(start, response.find("\r\n", start) - start);
}

TEST(HttpsRedirect, KeepsHostAndTargetWithTheHttpsPort) {
    std::string response =
        https_redirect_response(get("/a/b?c=1", {{"Host", "example.test:8080"}}), 8443, true);
    EXPECT_TRUE(response.starts_with("HTTP/1.1 308 Permanent Redirect\r\n"));
    EXPECT_EQ(location_of(response), "https://example.test:8443/a/b?c=1");
    EXPECT_NE(response.find("Content-Length: 0\r\n"), std::string::npos);
    EXPECT_EQ(response.find("Connection: close"), std::string::npos);
    EXPECT_TRUE(response.ends_with("\r\n\r\n"));
}

TEST(HttpsRedirect, Port443IsLeftOutAndIpv6LiteralsKeepTheirBrackets) {
    EXPECT_EQ(location_of(https_redirect_response(get("/", {{"Host", "example.test"}}), 443, true)),
              "https://example.test/");
    EXPECT_EQ(location_of(https_redirect_response(get("/x", {{"Host", "[::1]:80"}}), 8443, true)),
              "https://[::1]:8443/x");
}

TEST(HttpsRedirect, ClosingAndWithoutHost) {
    EXPECT_NE(https_redirect_response(get("/", {{"Host", "h"}}), 8443, false)
                  .find("Connection: close\r\n"),
              std::string::npos);
    EXPECT_EQ(https_redirect_response(get("/", {}), 8443, true), "");
}

}  // namespace
}  // namespace passenger::http

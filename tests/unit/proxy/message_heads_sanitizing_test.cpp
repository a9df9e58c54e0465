// The request head the app receives, as the front end's sanitizing shapes it.
#include "proxy/message_heads.hpp"

#include <gtest/gtest.h>

namespace passenger::proxy {
namespace {

http::MessageHead request_with(http::HeaderList headers) {
    http::MessageHead head;
    head.method = "POST";
    head.target = "/upload";
    head.headers = std::move(headers);
    return head;
}

TEST(AppRequestHeadSanitizing, DropsHeadersWithUnderscoresAndForwardedSpoofs) {
    auto head = request_with({{"Host", "site.example"},
                              {"X_Forwarded_For", "6.6.6.6"},
                              {"Remote_User", "admin"},
                              {"X-Forwarded-Host", "evil.example"},
                              {"X-Kept", "1"}});
    std::string out = app_request_head(head, "10.0.0.1", 0);
    EXPECT_EQ(out.find('_'), std::string::npos) << out;
    EXPECT_EQ(out.find("evil.example"), std::string::npos);
    EXPECT_NE(out.find("X-Forwarded-Host: site.example\r\n"), std::string::npos);
    EXPECT_NE(out.find("X-Kept: 1\r\n"), std::string::npos);
}

TEST(AppRequestHeadSanitizing, ATrustedPeersForwardedHeadersAreKeptWithOurHopAppended) {
    auto head = request_with({{"Host", "internal:3000"},
                              {"X-Forwarded-For", "203.0.113.5"},
                              {"X-Forwarded-For", "198.51.100.7"},
                              {"X-Forwarded-Proto", "https"},
                              {"X-Forwarded-Host", "shop.example"},
                              {"X_Forwarded_For", "6.6.6.6"}});
    std::string out = app_request_head(head, "10.0.0.1", 0, {.trusted_peer = true});
    EXPECT_NE(out.find("X-Forwarded-For: 203.0.113.5, 198.51.100.7, 10.0.0.1\r\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
    EXPECT_EQ(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
    EXPECT_NE(out.find("X-Forwarded-Host: shop.example\r\n"), std::string::npos);
    EXPECT_EQ(out.find("X-Forwarded-Host: internal"), std::string::npos);
    EXPECT_EQ(out.find('_'), std::string::npos);
    // Without them, a trusted peer's request gets ours, as anyone's.
    std::string plain =
        app_request_head(request_with({{"Host", "a"}}), "10.0.0.1", 0, {.trusted_peer = true});
    EXPECT_NE(plain.find("X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: http\r\n"
                         "X-Forwarded-Host: a\r\n"),
              std::string::npos)
        << plain;
}

TEST(AppRequestHeadSanitizing, NoForwardedHostWithoutHost) {
    auto head = request_with({});
    head.http_minor = 0;
    EXPECT_EQ(app_request_head(head, "10.0.0.1", 0).find("X-Forwarded-Host"), std::string::npos);
}

TEST(AppRequestHeadSanitizing, BufferedBodiesGoWithContentLength) {
    auto chunked = request_with({{"Host", "a"}, {"Transfer-Encoding", "chunked"}});
    chunked.chunked = true;
    std::string out = app_request_head(chunked, "10.0.0.1", 42);
    EXPECT_NE(out.find("Content-Length: 42\r\n"), std::string::npos);
    EXPECT_EQ(out.find("Transfer-Encoding"), std::string::npos);

    std::string empty = app_request_head(chunked, "10.0.0.1", 0);
    EXPECT_NE(empty.find("Content-Length: 0\r\n"), std::string::npos);

    auto bodiless = request_with({{"Host", "a"}});
    EXPECT_EQ(app_request_head(bodiless, "10.0.0.1", 0).find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace passenger::proxy

#include "http/request_sanitizer.hpp"

#include <gtest/gtest.h>

namespace passenger::http {
namespace {

MessageHead parse_head(std::string_view text) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    auto progress = parser.feed(text, &body);
    EXPECT_EQ(progress.event, MessageParser::Event::head_complete) << text;
    return parser.head();
}

int status_of(std::string_view text) {
    return check_request_head(parse_head(text)).status;
}

TEST(CheckRequestHead, AcceptsOrdinaryRequests) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET /a?b=c HTTP/1.1\r\nHost: example.com:8080\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\n\r\n"), 0);
    EXPECT_EQ(status_of("OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: [::1]:3000\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: \r\n\r\n"), 0);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET http://example.com/a HTTP/1.1\r\nHost: b\r\n\r\n"), 0);
    EXPECT_EQ(status_of("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n"), 0);
}

TEST(CheckRequestHead, RejectsVersionsOtherThan10And11) {
    EXPECT_EQ(status_of("GET / HTTP/2.0\r\nHost: a\r\n\r\n"), 505);
    EXPECT_EQ(status_of("GET / HTTP/0.9\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /\r\n\r\n"), 400);
}

TEST(CheckRequestHead, RejectsConnect) {
    EXPECT_EQ(status_of("CONNECT a:443 HTTP/1.1\r\nHost: a:443\r\n\r\n"), 501);
}

TEST(CheckRequestHead, RejectsInvalidHeaderNames) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost : a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nX Y: 1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\n: 1\r\n\r\n"), 400);
}

TEST(CheckRequestHead, HostRules) {
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: user@a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a:port\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: a b\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET / HTTP/1.1\r\nHost: [zz]\r\n\r\n"), 400);
}

TEST(CheckRequestHead, OnlyChunkedTransferCodingInHttp11) {
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
              400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"), 400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: CHUNKED\r\n\r\n"), 0);
}

// Field lines of one name are one comma-separated list (RFC 9110 5.3); the last line alone does
// not decide.
TEST(CheckRequestHead, TransferEncodingLinesAreCombined) {
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"),
              400);
    EXPECT_EQ(status_of("POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n"
                        "Transfer-Encoding: chunked\r\n\r\n"),
              400);
}

TEST(CheckRequestHead, UpgradeRequestsHaveNoBody) {
    constexpr std::string_view upgrade =
        "GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n";
    EXPECT_EQ(status_of(std::string(upgrade) + "\r\n"), 0);
    EXPECT_EQ(status_of(std::string(upgrade) + "Content-Length: 0\r\n\r\n"), 0);
    EXPECT_EQ(status_of(std::string(upgrade) + "Content-Length: 5\r\n\r\n"), 400);
    EXPECT_EQ(status_of(std::string(upgrade) + "Transfer-Encoding: chunked\r\n\r\n"), 400);
}

TEST(CheckRequestHead, TargetRules) {
    EXPECT_EQ(status_of("GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET /a#frag HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET * HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET ftp://a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
    EXPECT_EQ(status_of("GET http://u@a/b HTTP/1.1\r\nHost: a\r\n\r\n"), 400);
}

std::string normalized(std::string_view target) {
    MessageHead head;
    head.method = "GET";
    head.target = target;
    head.headers.emplace_back("Host", "original");
    Rejection rejection = normalize_request_target(head);
    if (rejection) return "<" + std::to_string(rejection.status) + ">";
    return head.target;
}

TEST(NormalizeRequestTarget, LeavesNormalPathsAlone) {
    EXPECT_EQ(normalized("/"), "/");
    EXPECT_EQ(normalized("/a/b.c/d?x=/../y"), "/a/b.c/d?x=/../y");
    EXPECT_EQ(normalized("/.well-known/x"), "/.well-known/x");
    EXPECT_EQ(normalized("/a..b/..c/"), "/a..b/..c/");
    EXPECT_EQ(normalized("//double//slash"), "//double//slash");
    EXPECT_EQ(normalized("*"), "*");
}

TEST(NormalizeRequestTarget, RemovesDotSegments) {
    EXPECT_EQ(normalized("/a/./b"), "/a/b");
    EXPECT_EQ(normalized("/a/b/../c"), "/a/c");
    EXPECT_EQ(normalized("/a/b/.."), "/a/");
    EXPECT_EQ(normalized("/a/."), "/a/");
    EXPECT_EQ(normalized("/."), "/");
    EXPECT_EQ(normalized("/a/.."), "/");
    EXPECT_EQ(normalized("/a/../b?q=1"), "/b?q=1");
}

TEST(NormalizeRequestTarget, DecodesUnreservedEscapesOnly) {
    EXPECT_EQ(normalized("/%7Euser/%61"), "/~user/a");
    EXPECT_EQ(normalized("/a%2fb"), "/a%2fb");
    EXPECT_EQ(normalized("/a%20b"), "/a%20b");
    EXPECT_EQ(normalized("/a/%2e%2E/b"), "/b");
    EXPECT_EQ(normalized("/a/..%2fb"), "/a/..%2fb");
}

TEST(NormalizeRequestTarget, RefusesClimbingAboveTheRoot) {
    EXPECT_EQ(normalized("/.."), "<400>");
    EXPECT_EQ(normalized("/../etc/passwd"), "<400>");
    EXPECT_EQ(normalized("/a/../../b"), "<400>");
    EXPECT_EQ(normalized("/%2e%2e/b"), "<400>");
    EXPECT_EQ(normalized("/a%zz"), "<400>");
    EXPECT_EQ(normalized("/a%2"), "<400>");
}

TEST(NormalizeRequestTarget, AbsoluteFormBecomesOriginFormAndSetsHost) {
    MessageHead head;
    head.method = "GET";
    head.target = "http://example.com:81/a/../b?q";
    head.headers.emplace_back("Host", "spoofed");
    EXPECT_FALSE(normalize_request_target(head));
    EXPECT_EQ(head.target, "/b?q");
    EXPECT_EQ(*head.find("host"), "example.com:81");

    MessageHead bare;
    bare.http_minor = 0;
    bare.target = "HTTP://example.com?x";
    EXPECT_FALSE(normalize_request_target(bare));
    EXPECT_EQ(bare.target, "/?x");
    ASSERT_NE(bare.find("host"), nullptr);
    EXPECT_EQ(*bare.find("host"), "example.com");
}

TEST(UntrustedRequestHeaders, UnderscoresAndForwardedHeaders) {
    EXPECT_TRUE(is_untrusted_request_header("X_Forwarded_For"));
    EXPECT_TRUE(is_untrusted_request_header("HTTP_AUTH"));
    EXPECT_TRUE(is_untrusted_request_header("x-forwarded-for"));
    EXPECT_TRUE(is_untrusted_request_header("X-Forwarded-Proto"));
    EXPECT_TRUE(is_untrusted_request_header("X-FORWARDED-HOST"));
    EXPECT_FALSE(is_untrusted_request_header("X-Forwarded-Fort"));
    EXPECT_FALSE(is_untrusted_request_header("Host"));
    EXPECT_FALSE(is_untrusted_request_header("X-Request-Id"));
}

TEST(IsToken, Characters) {
    EXPECT_TRUE(is_token("Content-Type"));
    EXPECT_TRUE(is_token("x!#$%&'*+-.^_`|~9"));
    EXPECT_FALSE(is_token(""));
    EXPECT_FALSE(is_token("a b"));
    EXPECT_FALSE(is_token("a:b"));
    EXPECT_FALSE(is_token("caf\xc3\xa9"));
}

}  // namespace
}  // namespace passenger::http

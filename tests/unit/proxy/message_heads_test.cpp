#include "proxy/message_heads.hpp"

#include <gtest/gtest.h>

namespace passenger::proxy {
namespace {

http::MessageHead request(std::string method, int minor, http::HeaderList headers) {
    http::MessageHead head;
    head.method = std::move(method);
    head.target = "/path?q=1";
    head.http_minor = minor;
    head.headers = std::move(headers);
    return head;
}

http::MessageHead response(int status, http::HeaderList headers) {
    http::MessageHead head;
    head.status = status;
    head.headers = std::move(headers);
    return head;
}

TEST(AppRequestHead, ReplacesForwardingHeadersAndDropsHopByHop) {
    auto head = request("POST", 1,
                        {{"Host", "example.test"},
                         {"X-Forwarded-For", "6.6.6.6"},
                         {"X-Forwarded-Proto", "https"},
                         {"Connection", "keep-alive, X-Secret-Hop"},
                         {"X-Secret-Hop", "1"},
                         {"Keep-Alive", "timeout=5"},
                         {"Expect", "100-continue"},
                         {"Accept", "*/*"}});
    head.content_length = 5;
    std::string out = app_request_head(head, "10.0.0.7", 5);
    EXPECT_TRUE(out.starts_with("POST /path?q=1 HTTP/1.1\r\n"));
    EXPECT_NE(out.find("Host: example.test\r\n"), std::string::npos);
    EXPECT_NE(out.find("Accept: */*\r\n"), std::string::npos);
    EXPECT_NE(out.find("X-Forwarded-For: 10.0.0.7\r\n"), std::string::npos);
    EXPECT_NE(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
    EXPECT_NE(out.find("Content-Length: 5\r\n"), std::string::npos);
    EXPECT_EQ(out.find("6.6.6.6"), std::string::npos);
    EXPECT_EQ(out.find("https"), std::string::npos);
    EXPECT_EQ(out.find("X-Secret-Hop"), std::string::npos);
    EXPECT_EQ(out.find("Keep-Alive"), std::string::npos);
    EXPECT_EQ(out.find("Expect"), std::string::npos);
    EXPECT_TRUE(out.ends_with("Connection: keep-alive\r\n\r\n"));

    // Behind nginx over TLS (the channel's https field): the scheme is ours to say, never the
    // client's header.
    out = app_request_head(head, "10.0.0.7", 5, {.https = true});
    EXPECT_NE(out.find("X-Forwarded-Proto: https\r\n"), std::string::npos);
    EXPECT_EQ(out.find("X-Forwarded-Proto: http\r\n"), std::string::npos);
}

TEST(AppRequestHead, Http10RequestWithoutHostGetsAnEmptyHost) {
    // The app is spoken to in HTTP/1.1, which requires Host (Node answers 400 without it); an
    // HTTP/1.0 client may omit it, and RFC 9112 says to send it empty when there is no authority.
    std::string out = app_request_head(request("GET", 0, {{"Accept", "*/*"}}), "10.0.0.7", 0);
    EXPECT_NE(out.find("\r\nHost: \r\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("X-Forwarded-Host"), std::string::npos) << out;
}

TEST(ClientResponsePlan, KeepsContentLength) {
    auto app = response(200, {{"Content-Length", "12"}, {"X-App", "1"}});
    app.content_length = 12;
    auto plan = client_response_plan(app, request("GET", 1, {}), true);
    EXPECT_EQ(plan.framing, BodyFraming::content_length);
    EXPECT_TRUE(plan.keep_alive);
    EXPECT_NE(plan.head.find("Content-Length: 12\r\n"), std::string::npos);
    EXPECT_NE(plan.head.find("X-App: 1\r\n"), std::string::npos);
    EXPECT_EQ(plan.head.find("Connection"), std::string::npos);
}

TEST(ClientResponsePlan, UnknownLengthIsChunkedForHttp11AndCloseDelimitedForHttp10) {
    auto app = response(200, {{"Transfer-Encoding", "chunked"}});
    app.chunked = true;
    auto http11 = client_response_plan(app, request("GET", 1, {}), true);
    EXPECT_EQ(http11.framing, BodyFraming::chunked);
    EXPECT_NE(http11.head.find("Transfer-Encoding: chunked\r\n"), std::string::npos);
    auto http10 = client_response_plan(app, request("GET", 0, {}), true);
    EXPECT_EQ(http10.framing, BodyFraming::until_close);
    EXPECT_FALSE(http10.keep_alive);
    EXPECT_EQ(http10.head.find("Transfer-Encoding"), std::string::npos);
    EXPECT_NE(http10.head.find("Connection: close\r\n"), std::string::npos);
}

TEST(ClientResponsePlan, HeadAndNotModifiedHaveNoBody) {
    auto app = response(200, {{"Content-Length", "99"}});
    app.content_length = 99;
    auto head_plan = client_response_plan(app, request("HEAD", 1, {}), true);
    EXPECT_EQ(head_plan.framing, BodyFraming::none);
    EXPECT_NE(head_plan.head.find("Content-Length: 99\r\n"), std::string::npos);
    auto not_modified = client_response_plan(response(304, {}), request("GET", 1, {}), true);
    EXPECT_EQ(not_modified.framing, BodyFraming::none);
    EXPECT_TRUE(not_modified.keep_alive);
}

TEST(ClientResponsePlan, Http10KeepAliveIsAnnounced) {
    auto app = response(200, {});
    app.content_length = 0;
    auto plan = client_response_plan(app, request("GET", 0, {}), true);
    EXPECT_NE(plan.head.find("Connection: keep-alive\r\n"), std::string::npos);
}

}  // namespace
}  // namespace passenger::proxy

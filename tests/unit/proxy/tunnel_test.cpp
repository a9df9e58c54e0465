#include "proxy/tunnel.hpp"

#include "proxy/message_heads.hpp"

#include <gtest/gtest.h>

namespace passenger::proxy {
namespace {

TEST(UpgradeResponseHead, KeepsTheHandshakeHeadersAndAddsOurs) {
    http::MessageHead response;
    response.status = 101;
    response.headers = {{"Upgrade", "websocket"},
                        {"Connection", "Upgrade"},
                        {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                        {"Content-Length", "0"},
                        {"Keep-Alive", "timeout=5"}};
    EXPECT_EQ(upgrade_response_head(response, "Set-Cookie: r=1; Path=/\r\n"),
              "HTTP/1.1 101 Switching Protocols\r\n"
              "Upgrade: websocket\r\n"
              "Connection: Upgrade\r\n"
              "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
              "Set-Cookie: r=1; Path=/\r\n"
              "\r\n");
}

TEST(AppRequestHead, AnUpgradeKeepsAskingForIt) {
    http::MessageHead request;
    request.method = "GET";
    request.target = "/ws";
    request.upgrade = true;
    request.headers = {{"Host", "example.test"},
                       {"Connection", "keep-alive, Upgrade"},
                       {"Upgrade", "websocket"},
                       {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                       {"Sec-WebSocket-Version", "13"}};
    std::string head = app_request_head(request, "10.0.0.1", 0);
    EXPECT_NE(head.find("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"), std::string::npos)
        << head;
    EXPECT_NE(head.find("\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"), std::string::npos);
    EXPECT_EQ(head.find("keep-alive"), std::string::npos) << head;

    request.upgrade = false;  // llhttp saw no upgrade (say, no "Connection: upgrade")
    head = app_request_head(request, "10.0.0.1", 0);
    EXPECT_EQ(head.find("Upgrade: websocket"), std::string::npos) << head;
    EXPECT_NE(head.find("Connection: keep-alive\r\n\r\n"), std::string::npos);
}

}  // namespace
}  // namespace passenger::proxy

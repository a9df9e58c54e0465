#include "proxy/sticky_cookie.hpp"

#include <gtest/gtest.h>

namespace passenger::proxy {
namespace {

http::MessageHead with_headers(http::HeaderList headers) {
    http::MessageHead head;
    head.headers = std::move(headers);
    return head;
}

TEST(StickyCookie, FindsTheNamedCookieAmongOthers) {
    auto head = with_headers({{"Cookie", "a=1; _passenger_route=0123abcd; b=2"}});
    EXPECT_EQ(sticky_cookie_value(head, "_passenger_route"), "0123abcd");
    EXPECT_EQ(sticky_cookie_value(head, "a"), "1");
    EXPECT_EQ(sticky_cookie_value(head, "b"), "2");
    EXPECT_EQ(sticky_cookie_value(head, "c"), "");
}

TEST(StickyCookie, MatchesWholeNamesOnly) {
    auto head = with_headers({{"Cookie", "x_passenger_route=1;_passenger_route_old=2"}});
    EXPECT_EQ(sticky_cookie_value(head, "_passenger_route"), "");
}

TEST(StickyCookie, ReadsEveryCookieHeaderAndTakesTheFirstMatch) {
    auto head = with_headers({{"Host", "h"},
                              {"cookie", "other=1"},
                              {"COOKIE", " route = \"abc\" ;route=later"},
                              {"Cookie", "route=last"}});
    EXPECT_EQ(sticky_cookie_value(head, "route"), "abc");
}

TEST(StickyCookie, ToleratesOddPairs) {
    auto head = with_headers({{"Cookie", ";;novalue; =x; route=; route=y"}});
    EXPECT_EQ(sticky_cookie_value(head, "route"), "");
    EXPECT_EQ(sticky_cookie_value(with_headers({}), "route"), "");
}

TEST(StickyCookie, SetCookieLineCarriesTheAttributes) {
    EXPECT_EQ(sticky_set_cookie_line("_passenger_route", "00ff", "SameSite=Lax; Path=/"),
              "Set-Cookie: _passenger_route=00ff; SameSite=Lax; Path=/\r\n");
    EXPECT_EQ(sticky_set_cookie_line("r", "1", ""), "Set-Cookie: r=1\r\n");
}

// Secure only on HTTPS, once, whatever case the configured attributes spell it in.
TEST(StickyCookie, SecureOnHttpsOnly) {
    EXPECT_EQ(sticky_set_cookie_line("r", "1", "SameSite=Lax; Path=/", true),
              "Set-Cookie: r=1; SameSite=Lax; Path=/; Secure\r\n");
    EXPECT_EQ(sticky_set_cookie_line("r", "1", "SameSite=Lax; Path=/", false),
              "Set-Cookie: r=1; SameSite=Lax; Path=/\r\n");
    EXPECT_EQ(sticky_set_cookie_line("r", "1", "Path=/; secure ", true),
              "Set-Cookie: r=1; Path=/; secure \r\n");
    EXPECT_EQ(sticky_set_cookie_line("r", "1", "", true), "Set-Cookie: r=1; Secure\r\n");
}

}  // namespace
}  // namespace passenger::proxy

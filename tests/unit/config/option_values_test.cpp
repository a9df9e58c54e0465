#include "config/option_values.hpp"

#include <gtest/gtest.h>

namespace passenger::config {
namespace {

TEST(OptionValues, PortAcceptsTheWholeRange) {
    EXPECT_EQ(std::get<int>(parse_port("1")), 1);
    EXPECT_EQ(std::get<int>(parse_port("65535")), 65535);
}

TEST(OptionValues, PortRejectsOutOfRangeAndGarbage) {
    for (const char* text : {"0", "65536", "-1", "", "3000 ", "0x10", "99999999999999999999"})
        EXPECT_TRUE(std::holds_alternative<std::string>(parse_port(text))) << text;
}

TEST(OptionValues, IntInRangeNamesTheExpectedKind) {
    EXPECT_EQ(std::get<std::string>(parse_int_in_range("9", 0, 4, "a log level (0-4)")),
              "'9' is not a log level (0-4)");
    EXPECT_EQ(std::get<int>(parse_int_in_range("4", 0, 4, "x")), 4);
}

TEST(OptionValues, EnvvarSplitsAtTheFirstEquals) {
    auto parsed = std::get<std::pair<std::string, std::string>>(parse_envvar("URL=a=b"));
    EXPECT_EQ(parsed.first, "URL");
    EXPECT_EQ(parsed.second, "a=b");
    auto empty = std::get<std::pair<std::string, std::string>>(parse_envvar("EMPTY="));
    EXPECT_EQ(empty.second, "");
}

TEST(OptionValues, EnvvarNeedsAVariableName) {
    for (const char* text : {"NOEQUALS", "=value", "1X=y", "A-B=c", "A B=c"})
        EXPECT_TRUE(std::holds_alternative<std::string>(parse_envvar(text))) << text;
}

TEST(OptionValues, CookieNameIsAToken) {
    EXPECT_EQ(cookie_name_error("_passenger_route"), "");
    EXPECT_EQ(cookie_name_error("a.b-c~1"), "");
    for (const char* text : {"", "a b", "a=b", "a;b", "a,b", "\"a\"", "a\x01", "caf\xc3\xa9"})
        EXPECT_NE(cookie_name_error(text).find("is not a cookie name"), std::string::npos) << text;
}

TEST(OptionValues, CookieAttributesCannotBreakTheHeader) {
    EXPECT_EQ(cookie_attributes_error("SameSite=Lax; Path=/"), "");
    EXPECT_EQ(cookie_attributes_error(""), "");
    for (const char* text : {"Path=/\r\nSet-Cookie: x=1", "Path=/\n", "a\x7f"})
        EXPECT_NE(cookie_attributes_error(text).find("cannot carry"), std::string::npos) << text;
}

TEST(OptionValues, SslProtocolsAsNginxListsThem) {
    auto both = parse_ssl_protocols("TLSv1.3  TLSv1.2");
    ASSERT_TRUE(std::holds_alternative<SslProtocols>(both));
    EXPECT_EQ(std::get<SslProtocols>(both).text(), "TLSv1.2 TLSv1.3");
    EXPECT_EQ(std::get<SslProtocols>(parse_ssl_protocols("TLSv1.3")).text(), "TLSv1.3");
    EXPECT_EQ(std::get<std::string>(parse_ssl_protocols("TLSv1.1 TLSv1.2")),
              "TLSv1.1 is not supported (it is insecure); use TLSv1.2 and/or TLSv1.3");
    EXPECT_EQ(std::get<std::string>(parse_ssl_protocols("TLSv9")),
              "unknown protocol 'TLSv9' (expected TLSv1.2 and/or TLSv1.3, separated by spaces)");
    EXPECT_EQ(std::get<std::string>(parse_ssl_protocols(" ")),
              "expected TLSv1.2 and/or TLSv1.3, separated by spaces");
}

}  // namespace
}  // namespace passenger::config

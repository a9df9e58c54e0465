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

}  // namespace
}  // namespace passenger::config

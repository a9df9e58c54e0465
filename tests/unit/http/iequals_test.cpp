#include "http/response_head.hpp"

#include <gtest/gtest.h>

#include <string>

namespace passenger::http {
namespace {

TEST(IEquals, AsciiCaseInsensitive) {
    EXPECT_TRUE(iequals("Content-Length", "content-length"));
    EXPECT_TRUE(iequals("CONNECTION", "connection"));
    EXPECT_TRUE(iequals("", ""));
    EXPECT_FALSE(iequals("Connection", "Connectio"));
    EXPECT_FALSE(iequals("keep-alive", "keep_alive"));
    // Only ASCII letters fold: '@' (0x40) and '`' (0x60), '[' (0x5B) and '{' (0x7B) differ.
    EXPECT_FALSE(iequals("@", "`"));
    EXPECT_FALSE(iequals("[", "{"));
    // Bytes above 0x7F compare as they are.
    EXPECT_TRUE(iequals(std::string("\xC4", 1), std::string("\xC4", 1)));
    EXPECT_FALSE(iequals(std::string("\xC4", 1), std::string("\xE4", 1)));
}

}  // namespace
}  // namespace passenger::http

#include "static/validators.hpp"

#include <gtest/gtest.h>

namespace passenger::static_files {
namespace {

TEST(StaticValidatorsTest, EtagIsQuotedHexOfMtimeSizeInode) {
    struct stat info {};
    info.st_mtim.tv_sec = 1;
    info.st_mtim.tv_nsec = 5;
    info.st_size = 255;
    info.st_ino = 16;
    EXPECT_EQ(make_etag(info), "\"3b9aca05-ff-10\"");
    info.st_mtim.tv_nsec = 6;
    EXPECT_NE(make_etag(info), "\"3b9aca05-ff-10\"");
}

TEST(StaticValidatorsTest, IfNoneMatchUsesWeakComparison) {
    EXPECT_TRUE(none_match_hits("\"x\"", "\"x\""));
    EXPECT_TRUE(none_match_hits("W/\"x\"", "\"x\""));
    EXPECT_TRUE(none_match_hits("\"a\", \"x\"", "\"x\""));
    EXPECT_TRUE(none_match_hits(" * ", "\"x\""));
    EXPECT_FALSE(none_match_hits("\"y\"", "\"x\""));
    EXPECT_FALSE(none_match_hits("x", "\"x\""));
    EXPECT_FALSE(none_match_hits(",,", "\"x\""));
}

TEST(StaticValidatorsTest, IfModifiedSince) {
    EXPECT_TRUE(not_modified_since("Thu, 01 Jan 1970 00:00:10 GMT", 10));
    EXPECT_TRUE(not_modified_since("Thu, 01 Jan 1970 00:00:11 GMT", 10));
    EXPECT_FALSE(not_modified_since("Thu, 01 Jan 1970 00:00:09 GMT", 10));
    EXPECT_FALSE(not_modified_since("not a date", 10));
}

TEST(StaticValidatorsTest, IfRangeNeedsAStrongMatch) {
    EXPECT_TRUE(if_range_holds("\"x\"", "\"x\"", 10));
    EXPECT_FALSE(if_range_holds("W/\"x\"", "\"x\"", 10));
    EXPECT_FALSE(if_range_holds("\"y\"", "\"x\"", 10));
    EXPECT_TRUE(if_range_holds("Thu, 01 Jan 1970 00:00:10 GMT", "\"x\"", 10));
    EXPECT_FALSE(if_range_holds("Thu, 01 Jan 1970 00:00:11 GMT", "\"x\"", 10));
    EXPECT_FALSE(if_range_holds("garbage", "\"x\"", 10));
}

}  // namespace
}  // namespace passenger::static_files

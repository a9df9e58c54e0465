#include "static/byte_range.hpp"

#include <gtest/gtest.h>

namespace passenger::static_files {
namespace {

void expect_range(std::string_view header, uint64_t size, uint64_t first, uint64_t last) {
    ByteRange range = parse_byte_range(header, size);
    ASSERT_EQ(range.verdict, RangeVerdict::kSatisfiable) << header;
    EXPECT_EQ(range.first, first) << header;
    EXPECT_EQ(range.last, last) << header;
    EXPECT_EQ(range.length(), last - first + 1) << header;
}

RangeVerdict verdict_of(std::string_view header, uint64_t size) {
    return parse_byte_range(header, size).verdict;
}

TEST(ByteRangeTest, ClosedRange) {
    expect_range("bytes=0-0", 100, 0, 0);
    expect_range("bytes=0-99", 100, 0, 99);
    expect_range("bytes=10-19", 100, 10, 19);
    expect_range("bytes=10-1000", 100, 10, 99);
    expect_range("bytes=99-99", 100, 99, 99);
}

TEST(ByteRangeTest, OpenEndedRange) {
    expect_range("bytes=0-", 100, 0, 99);
    expect_range("bytes=40-", 100, 40, 99);
    expect_range("bytes=99-", 100, 99, 99);
}

TEST(ByteRangeTest, SuffixRange) {
    expect_range("bytes=-1", 100, 99, 99);
    expect_range("bytes=-30", 100, 70, 99);
    expect_range("bytes=-100", 100, 0, 99);
    expect_range("bytes=-5000", 100, 0, 99);
}

TEST(ByteRangeTest, UnitIsCaseInsensitiveAndSpacesTolerated) {
    expect_range("Bytes=1-2", 100, 1, 2);
    expect_range("  bytes= 1-2 ", 100, 1, 2);
}

TEST(ByteRangeTest, HugeNumbersSaturate) {
    expect_range("bytes=5-99999999999999999999999999", 100, 5, 99);
    expect_range("bytes=-99999999999999999999999999", 100, 0, 99);
    EXPECT_EQ(verdict_of("bytes=99999999999999999999999999-", 100), RangeVerdict::kUnsatisfiable);
}

TEST(ByteRangeTest, Unsatisfiable) {
    EXPECT_EQ(verdict_of("bytes=100-", 100), RangeVerdict::kUnsatisfiable);
    EXPECT_EQ(verdict_of("bytes=100-200", 100), RangeVerdict::kUnsatisfiable);
    EXPECT_EQ(verdict_of("bytes=-0", 100), RangeVerdict::kUnsatisfiable);
    EXPECT_EQ(verdict_of("bytes=0-", 0), RangeVerdict::kUnsatisfiable);
    EXPECT_EQ(verdict_of("bytes=-5", 0), RangeVerdict::kUnsatisfiable);
}

TEST(ByteRangeTest, MalformedOrUnsupportedMeansWholeFile) {
    for (std::string_view header :
         {"", "bytes", "bytes=", "bytes=-", "bytes=abc", "bytes=1", "bytes=5-3", "bytes=1-2-3",
          "bytes=a-5", "bytes=5-b", "bytes=+1-2", "bytes=0x1-2", "items=0-5", "bytes 0-5",
          "bytes=0-1,5-6", "bytes=0-1,"}) {
        EXPECT_EQ(verdict_of(header, 100), RangeVerdict::kWhole) << header;
    }
}

}  // namespace
}  // namespace passenger::static_files

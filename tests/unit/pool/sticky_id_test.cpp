#include "pool/sticky_id.hpp"

#include "pool/process.hpp"

#include <gtest/gtest.h>

#include <set>

namespace passenger::pool {
namespace {

TEST(StickyId, IsSixteenHexDigits) {
    std::string id = new_sticky_id();
    ASSERT_EQ(id.size(), 16u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos) << id;
}

TEST(StickyId, DiffersEveryTime) {
    std::set<std::string> ids;
    for (int i = 0; i < 1000; ++i) ids.insert(new_sticky_id());
    EXPECT_EQ(ids.size(), 1000u);
}

TEST(StickyId, EachProcessGetsItsOwn) {
    Process a, b;
    EXPECT_NE(a.sticky_id, b.sticky_id);
    EXPECT_EQ(a.sticky_id.size(), 16u);
}

}  // namespace
}  // namespace passenger::pool

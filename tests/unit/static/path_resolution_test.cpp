#include "static/path_resolution.hpp"

#include <gtest/gtest.h>

#include <string>

namespace passenger::static_files {
namespace {

std::string relative_of(std::string_view path) {
    ResolvedPath resolved = resolve_request_path(path);
    EXPECT_EQ(resolved.verdict, PathVerdict::kOk) << path;
    return resolved.relative;
}

PathVerdict verdict_of(std::string_view path) {
    return resolve_request_path(path).verdict;
}

TEST(PathResolutionTest, PercentDecodes) {
    std::string out;
    ASSERT_TRUE(percent_decode("/a%20b%2Fc%2e+", out));
    EXPECT_EQ(out, "/a b/c.+");
    EXPECT_FALSE(percent_decode("/a%", out));
    EXPECT_FALSE(percent_decode("/a%4", out));
    EXPECT_FALSE(percent_decode("/a%zz", out));
    EXPECT_FALSE(percent_decode("/a%4g", out));
}

TEST(PathResolutionTest, PlainPaths) {
    EXPECT_EQ(relative_of("/"), "");
    EXPECT_EQ(relative_of("/index.html"), "index.html");
    EXPECT_EQ(relative_of("/css/site.css"), "css/site.css");
    EXPECT_EQ(relative_of("/with%20space.txt"), "with space.txt");
}

TEST(PathResolutionTest, CollapsesSlashesAndDots) {
    EXPECT_EQ(relative_of("//a///b.txt"), "a/b.txt");
    EXPECT_EQ(relative_of("/./a/./b.txt"), "a/b.txt");
    EXPECT_EQ(relative_of("/a/../b.txt"), "b.txt");
    EXPECT_EQ(relative_of("/a/b/../../c.txt"), "c.txt");
    EXPECT_EQ(relative_of("/a/%2e%2E/b.txt"), "b.txt");
    EXPECT_EQ(relative_of("/a/.."), "");
    EXPECT_EQ(relative_of("/."), "");
}

TEST(PathResolutionTest, KeepsTrailingSlashForDirectories) {
    EXPECT_EQ(relative_of("/dir/"), "dir/");
    EXPECT_EQ(relative_of("/dir//"), "dir/");
    EXPECT_EQ(relative_of("/dir/."), "dir/");
    EXPECT_EQ(relative_of("/dir/sub/.."), "dir/");
    EXPECT_EQ(relative_of("/file.txt/"), "file.txt/");
}

TEST(PathResolutionTest, RejectsClimbingAboveRoot) {
    for (std::string_view path :
         {"/..", "/../x", "/%2e%2e/x", "/%2E%2E/x", "/.%2e/x", "/a/../../x", "/a/%2E%2E/%2e%2e/x",
          "/a%2f..%2f..%2fx", "//../x", "/./../x", "/a/b/../../../etc/passwd"}) {
        ResolvedPath resolved = resolve_request_path(path);
        EXPECT_EQ(resolved.verdict, PathVerdict::kBadRequest) << path;
        EXPECT_TRUE(resolved.relative.empty()) << path;
    }
}

TEST(PathResolutionTest, RejectsNulBytes) {
    EXPECT_EQ(verdict_of("/a%00.txt"), PathVerdict::kBadRequest);
    EXPECT_EQ(verdict_of(std::string_view("/a\0b", 4)), PathVerdict::kBadRequest);
}

TEST(PathResolutionTest, BackslashIsAnOrdinaryCharacter) {
    EXPECT_EQ(relative_of("/..\\x"), "..\\x");
    EXPECT_EQ(relative_of("/a\\..\\..\\x"), "a\\..\\..\\x");
    EXPECT_EQ(relative_of("/%5c..%5cx"), "\\..\\x");
}

TEST(PathResolutionTest, NotStaticWhenMalformed) {
    EXPECT_EQ(verdict_of(""), PathVerdict::kNotStatic);
    EXPECT_EQ(verdict_of("*"), PathVerdict::kNotStatic);
    EXPECT_EQ(verdict_of("x/y"), PathVerdict::kNotStatic);
    EXPECT_EQ(verdict_of("/100%"), PathVerdict::kNotStatic);
    EXPECT_EQ(verdict_of("/a%zz"), PathVerdict::kNotStatic);
}

TEST(PathResolutionTest, DotsInsideNamesAreNotSegments) {
    EXPECT_EQ(relative_of("/..a/b..txt"), "..a/b..txt");
    EXPECT_EQ(relative_of("/.hidden"), ".hidden");
    EXPECT_EQ(relative_of("/.../x"), ".../x");
}

}  // namespace
}  // namespace passenger::static_files

#include "static/static_files.hpp"

#include "http/response_head.hpp"
#include "temp_tree.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdio>

#include <regex>
#include <string>

namespace passenger::static_files {
namespace {

constexpr long kMtime = 1700000000;  // Tue, 14 Nov 2023 22:13:20 GMT
constexpr std::string_view kHello = "hello world\n";
constexpr std::string_view kSecret = "TOP SECRET";

class StaticFilesTest : public ::testing::Test {
  protected:
    void SetUp() override {
        tree_.write("secret.txt", kSecret);
        tree_.write("public/hello.txt", kHello);
        tree_.write("public/style.css", "body{}");
        tree_.write("public/empty.txt", "");
        tree_.write("public/with space.txt", "spaced");
        tree_.write("public/sub/index.html", "<p>sub</p>");
        tree_.write("public/sub/page.txt", "page");
        tree_.write("public/noindex/other.txt", "other");
        tree_.symlink("hello.txt", "public/link_inside.txt");
        tree_.symlink(tree_.path("public/hello.txt").string(), "public/abs_link_inside.txt");
        tree_.symlink("sub", "public/dir_link_inside");
        tree_.symlink("../secret.txt", "public/link_outside.txt");
        tree_.symlink(tree_.path("secret.txt").string(), "public/abs_link_outside.txt");
        tree_.symlink("..", "public/dir_link_outside");
        ASSERT_EQ(::mkfifo(tree_.path("public/fifo").c_str(), 0600), 0);
        set_mtime("public/hello.txt", kMtime);
    }

    void set_mtime(std::string_view relative, long seconds) {
        timespec times[2] = {{seconds, 0}, {seconds, 0}};
        ASSERT_EQ(::utimensat(AT_FDCWD, tree_.path(relative).c_str(), times, 0), 0);
    }

    std::optional<StaticResponse> get(std::string_view path, std::string_view method = "GET") {
        StaticRequest request;
        request.method = method;
        request.path = path;
        return lookup(request);
    }
    std::optional<StaticResponse> lookup(const StaticRequest& request) {
        if (!files_) files_.emplace(tree_.path("public").string());
        return files_->lookup(request);
    }
    StaticRequest hello_request() {
        StaticRequest request;
        request.method = "GET";
        request.path = "/hello.txt";
        return request;
    }
    std::string hello_etag() {
        auto response = get("/hello.txt");
        EXPECT_TRUE(response.has_value());
        const std::string* etag = response ? response->head.find("ETag") : nullptr;
        return etag ? *etag : std::string();
    }

    static std::string header(const StaticResponse& response, std::string_view name) {
        const std::string* value = response.head.find(name);
        return value ? *value : std::string("<absent>");
    }
    // The body the server would send: from memory (small files), or from the file descriptor.
    static std::string body_bytes(const StaticResponse& response) {
        if (response.file.get() < 0) return response.inline_body;
        std::string bytes(response.length, '\0');
        ssize_t n = ::pread(response.file.get(), bytes.data(), bytes.size(), response.offset);
        EXPECT_EQ(n, static_cast<ssize_t>(bytes.size()));
        return bytes;
    }
    static size_t body_length(const StaticResponse& response) {
        return response.file.get() < 0 ? response.inline_body.size() : response.length;
    }
    // A response that cannot leak the secret: absent, or a 400 without file bytes.
    static void expect_not_served(const std::optional<StaticResponse>& response,
                                  std::string_view path) {
        if (!response) return;
        EXPECT_EQ(response->head.status, 400) << path;
        EXPECT_EQ(response->file.get(), -1) << path;
        EXPECT_EQ(response->length, 0u) << path;
        EXPECT_EQ(response->inline_body.find(kSecret), std::string::npos) << path;
    }

    testing::TempTree tree_;
    std::optional<StaticFiles> files_;  // one for the whole test, as in the server
};

TEST_F(StaticFilesTest, ServesRegularFileWithEntityHeaders) {
    auto response = get("/hello.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 200);
    EXPECT_EQ(header(*response, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(header(*response, "Content-Length"), "12");
    EXPECT_EQ(header(*response, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
    EXPECT_EQ(header(*response, "Accept-Ranges"), "bytes");
    EXPECT_EQ(header(*response, "Content-Range"), "<absent>");
    EXPECT_TRUE(std::regex_match(header(*response, "ETag"),
                                 std::regex("\"[0-9a-f]+-[0-9a-f]+-[0-9a-f]+\"")))
        << header(*response, "ETag");
    // A small file comes read into memory, to go out with its head in one write.
    EXPECT_EQ(response->file.get(), -1);
    EXPECT_EQ(response->inline_body, kHello);
}

TEST_F(StaticFilesTest, ALargerFileIsSentFromItsDescriptor) {
    const std::string big(StaticFiles::inline_file_bytes + 1, 'x');
    tree_.write("public/big.txt", big);
    auto response = get("/big.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 200);
    EXPECT_EQ(header(*response, "Content-Length"), std::to_string(big.size()));
    EXPECT_TRUE(response->inline_body.empty());
    EXPECT_EQ(response->offset, 0);
    EXPECT_EQ(body_length(*response), big.size());
    ASSERT_GE(response->file.get(), 0);
    EXPECT_EQ(body_bytes(*response), big);
    EXPECT_TRUE(::fcntl(response->file.get(), F_GETFD) & FD_CLOEXEC);
}

TEST_F(StaticFilesTest, AMissIsRememberedUntilTheNextRefresh) {
    // The server's case: a dynamic app's URLs name no file; each costs a failing openat2 once
    // per refresh interval, not once per request.
    StaticFiles files(tree_.path("public").string(), {.refresh = std::chrono::hours(1)});
    StaticRequest request;
    request.method = "GET";
    request.path = "/later.txt";
    EXPECT_FALSE(files.lookup(request).has_value());
    tree_.write("public/later.txt", "later");
    EXPECT_FALSE(files.lookup(request).has_value()) << "still the remembered miss";

    StaticFiles refreshing(tree_.path("public").string(), {.refresh = std::chrono::seconds(0)});
    auto response = refreshing.lookup(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(body_bytes(*response), "later");
    ASSERT_EQ(::unlink(tree_.path("public/later.txt").c_str()), 0);
    EXPECT_FALSE(refreshing.lookup(request).has_value()) << "files are never cached";
}

TEST_F(StaticFilesTest, ContentTypeFollowsExtension) {
    EXPECT_EQ(header(*get("/style.css"), "Content-Type"), "text/css; charset=utf-8");
    EXPECT_EQ(header(*get("/sub/index.html"), "Content-Type"), "text/html; charset=utf-8");
}

TEST_F(StaticFilesTest, EtagChangesWhenFileChanges) {
    std::string before = hello_etag();
    tree_.write("public/hello.txt", "hello world, longer\n");
    set_mtime("public/hello.txt", kMtime);
    EXPECT_NE(hello_etag(), before);
}

TEST_F(StaticFilesTest, EmptyFile) {
    auto response = get("/empty.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 200);
    EXPECT_EQ(header(*response, "Content-Length"), "0");
    EXPECT_EQ(body_length(*response), 0u);
}

TEST_F(StaticFilesTest, DecodesPercentEncodedNames) {
    auto response = get("/with%20space.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(body_bytes(*response), "spaced");
}

TEST_F(StaticFilesTest, HeadMirrorsGetWithoutBody) {
    auto head = get("/hello.txt", "HEAD");
    auto full = get("/hello.txt");
    ASSERT_TRUE(head.has_value() && full.has_value());
    EXPECT_EQ(head->head.status, 200);
    EXPECT_EQ(head->head.headers, full->head.headers);
    EXPECT_EQ(head->length, 0u);
    EXPECT_TRUE(head->inline_body.empty());
}

TEST_F(StaticFilesTest, OnlyGetAndHeadAreStatic) {
    for (std::string_view method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "get", "head"}) {
        EXPECT_FALSE(get("/hello.txt", method).has_value()) << method;
    }
    EXPECT_FALSE(get("/../secret.txt", "POST").has_value());
}

TEST_F(StaticFilesTest, DirectoryServesItsIndex) {
    for (std::string_view path : {"/sub/", "/sub", "/sub/.", "/dir_link_inside/", "/sub//"}) {
        auto response = get(path);
        ASSERT_TRUE(response.has_value()) << path;
        EXPECT_EQ(response->head.status, 200) << path;
        EXPECT_EQ(header(*response, "Content-Type"), "text/html; charset=utf-8") << path;
        EXPECT_EQ(body_bytes(*response), "<p>sub</p>") << path;
    }
}

TEST_F(StaticFilesTest, NotStaticWhenNothingToServe) {
    for (std::string_view path : {"/missing.txt", "/noindex/", "/noindex", "/", "/hello.txt/",
                                  "/fifo", "/sub/missing", "/100%"}) {
        EXPECT_FALSE(get(path).has_value()) << path;
    }
    StaticRequest request = hello_request();
    EXPECT_FALSE(StaticFiles(tree_.path("no-such-dir").string()).lookup(request).has_value());
}

TEST_F(StaticFilesTest, InsideDotDotIsNormalizedAndServed) {
    for (std::string_view path : {"/sub/../hello.txt", "/sub/%2e%2e/hello.txt", "//./hello.txt"}) {
        auto response = get(path);
        ASSERT_TRUE(response.has_value()) << path;
        EXPECT_EQ(body_bytes(*response), kHello) << path;
    }
}

TEST_F(StaticFilesTest, TraversalIsBadRequest) {
    for (std::string_view path :
         {"/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt",
          "/sub/%2E%2E/%2e%2e/secret.txt", "/sub/../../secret.txt", "/%2e%2e%2fsecret.txt",
          "/hello.txt%00.png", "/.."}) {
        auto response = get(path);
        ASSERT_TRUE(response.has_value()) << path;
        EXPECT_EQ(response->head.status, 400) << path;
        EXPECT_EQ(header(*response, "Content-Type"), "text/html; charset=utf-8");
        EXPECT_EQ(header(*response, "Content-Length"),
                  std::to_string(response->inline_body.size()));
        EXPECT_NE(response->inline_body.find("400"), std::string::npos);
        expect_not_served(response, path);
    }
    auto head = get("/../secret.txt", "HEAD");
    ASSERT_TRUE(head.has_value());
    EXPECT_EQ(head->head.status, 400);
    EXPECT_TRUE(head->inline_body.empty());
    EXPECT_EQ(header(*head, "Content-Length"), header(*get("/../secret.txt"), "Content-Length"));
}

TEST_F(StaticFilesTest, TraversalVariantsNeverReachTheSecret) {
    for (std::string_view path :
         {"/..\\secret.txt", "/%5c..%5csecret.txt", "/..%5csecret.txt", "/...", "/..../secret.txt",
          "/link_outside.txt", "/abs_link_outside.txt", "/dir_link_outside/secret.txt",
          "/dir_link_outside/", "/%2e%2e%5csecret.txt", "/%252e%252e/secret.txt",
          "/..%2f..%2fsecret.txt"}) {
        expect_not_served(get(path), path);
    }
}

TEST_F(StaticFilesTest, SymlinksLeavingPublicAreNotStatic) {
    EXPECT_FALSE(get("/link_outside.txt").has_value());
    EXPECT_FALSE(get("/abs_link_outside.txt").has_value());
    EXPECT_FALSE(get("/dir_link_outside/secret.txt").has_value());
}

TEST_F(StaticFilesTest, SymlinkDetourEndingInsideIsJudgedByItsTarget) {
    // The real path is public/hello.txt, inside the root, so it is served like that file.
    auto response = get("/dir_link_outside/public/hello.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(body_bytes(*response), kHello);
}

TEST_F(StaticFilesTest, SymlinksStayingInsideAreServed) {
    for (std::string_view path : {"/link_inside.txt", "/abs_link_inside.txt"}) {
        auto response = get(path);
        ASSERT_TRUE(response.has_value()) << path;
        EXPECT_EQ(body_bytes(*response), kHello) << path;
    }
    auto response = get("/dir_link_inside/page.txt");
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(body_bytes(*response), "page");
}

TEST_F(StaticFilesTest, NotModifiedByEtag) {
    std::string etag = hello_etag();
    for (std::string value : {etag, "W/" + etag, "\"other\", " + etag,
                              "\"a\",W/" + etag + " ,\"b\"", std::string("*")}) {
        StaticRequest request = hello_request();
        request.if_none_match = value;
        auto response = lookup(request);
        ASSERT_TRUE(response.has_value()) << value;
        EXPECT_EQ(response->head.status, 304) << value;
        EXPECT_EQ(header(*response, "ETag"), etag);
        EXPECT_EQ(header(*response, "Last-Modified"), "Tue, 14 Nov 2023 22:13:20 GMT");
        EXPECT_EQ(header(*response, "Content-Length"), "<absent>");
        EXPECT_EQ(body_length(*response), 0u);
        EXPECT_EQ(response->file.get(), -1);
        EXPECT_TRUE(response->inline_body.empty());
    }
}

TEST_F(StaticFilesTest, EtagMismatchWinsOverIfModifiedSince) {
    StaticRequest request = hello_request();
    request.if_none_match = "\"stale\"";
    request.if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT";
    auto response = lookup(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 200);
    EXPECT_EQ(body_length(*response), kHello.size());
}

TEST_F(StaticFilesTest, NotModifiedByDate) {
    for (std::string_view date :
         {"Tue, 14 Nov 2023 22:13:20 GMT", "Wed, 15 Nov 2023 00:00:00 GMT"}) {
        StaticRequest request = hello_request();
        request.if_modified_since = date;
        auto response = lookup(request);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->head.status, 304) << date;
        EXPECT_EQ(header(*response, "Content-Length"), "<absent>");
    }
    for (std::string_view date : {"Tue, 14 Nov 2023 22:13:19 GMT", "yesterday", "0"}) {
        StaticRequest request = hello_request();
        request.if_modified_since = date;
        auto response = lookup(request);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->head.status, 200) << date;
    }
}

TEST_F(StaticFilesTest, HeadGetsNotModifiedToo) {
    StaticRequest request = hello_request();
    request.method = "HEAD";
    request.if_modified_since = "Tue, 14 Nov 2023 22:13:20 GMT";
    EXPECT_EQ(lookup(request)->head.status, 304);
}

TEST_F(StaticFilesTest, SingleRangeIsPartialContent) {
    StaticRequest request = hello_request();
    request.range = "bytes=2-5";
    auto response = lookup(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 206);
    EXPECT_EQ(header(*response, "Content-Range"), "bytes 2-5/12");
    EXPECT_EQ(header(*response, "Content-Length"), "4");
    EXPECT_EQ(header(*response, "Content-Type"), "text/plain; charset=utf-8");
    EXPECT_EQ(response->offset, 2);
    EXPECT_EQ(body_length(*response), 4u);
    EXPECT_EQ(body_bytes(*response), "llo ");

    request.range = "bytes=-3";
    response = lookup(request);
    EXPECT_EQ(header(*response, "Content-Range"), "bytes 9-11/12");
    EXPECT_EQ(body_bytes(*response), "ld\n");
}

TEST_F(StaticFilesTest, HeadWithRangeHasPartialHeadersAndNoBody) {
    StaticRequest request = hello_request();
    request.method = "HEAD";
    request.range = "bytes=2-5";
    auto response = lookup(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 206);
    EXPECT_EQ(header(*response, "Content-Length"), "4");
    EXPECT_EQ(body_length(*response), 0u);
}

TEST_F(StaticFilesTest, UnsatisfiableRange) {
    StaticRequest request = hello_request();
    request.range = "bytes=12-";
    auto response = lookup(request);
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->head.status, 416);
    EXPECT_EQ(header(*response, "Content-Range"), "bytes */12");
    EXPECT_EQ(header(*response, "Content-Length"), "0");
    EXPECT_EQ(body_length(*response), 0u);
    EXPECT_TRUE(response->inline_body.empty());
}

TEST_F(StaticFilesTest, MalformedOrMultipleRangesServeWholeFile) {
    for (std::string_view range : {"bytes=5-2", "bytes=x-", "lines=1-2", "bytes=0-1,4-5"}) {
        StaticRequest request = hello_request();
        request.range = range;
        auto response = lookup(request);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->head.status, 200) << range;
        EXPECT_EQ(body_length(*response), kHello.size()) << range;
        EXPECT_EQ(header(*response, "Content-Range"), "<absent>");
    }
}

TEST_F(StaticFilesTest, IfRangeDecidesWhetherRangeApplies) {
    std::string etag = hello_etag();
    struct Case {
        std::string if_range;
        int status;
    };
    for (const Case& c : {Case{etag, 206}, Case{"\"stale\"", 200}, Case{"W/" + etag, 200},
                          Case{"Tue, 14 Nov 2023 22:13:20 GMT", 206},
                          Case{"Tue, 14 Nov 2023 22:13:21 GMT", 200}, Case{"garbage", 200}}) {
        StaticRequest request = hello_request();
        request.range = "bytes=0-1";
        request.if_range = c.if_range;
        auto response = lookup(request);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->head.status, c.status) << c.if_range;
        EXPECT_EQ(body_length(*response), c.status == 206 ? 2u : kHello.size()) << c.if_range;
    }
}

TEST_F(StaticFilesTest, SmallFilesServedFromMemoryStayFresh) {
    StaticFiles files(tree_.path("public").string(), {.cache_min_age = std::chrono::seconds(0)});
    StaticRequest request;
    request.method = "GET";
    request.path = "/hello.txt";
    for (int i = 0; i < 2; ++i) {  // read from disk, then from memory
        auto response = files.lookup(request);
        ASSERT_TRUE(response.has_value());
        EXPECT_EQ(response->file.get(), -1);
        EXPECT_EQ(body_bytes(*response), kHello);
    }
    request.range = "bytes=2-5";
    auto part = files.lookup(request);
    ASSERT_TRUE(part.has_value());
    EXPECT_EQ(part->head.status, 206);
    EXPECT_EQ(body_bytes(*part), kHello.substr(2, 4));

    // A deploy replaces the file (same size, new inode): the new one is served at once.
    request.range = "";
    const std::string next(kHello.size(), 'n');
    tree_.write("public/hello.txt.next", next);
    ASSERT_EQ(std::rename(tree_.path("public/hello.txt.next").c_str(),
                          tree_.path("public/hello.txt").c_str()),
              0);
    auto replaced = files.lookup(request);
    ASSERT_TRUE(replaced.has_value());
    EXPECT_EQ(body_bytes(*replaced), next);
}

}  // namespace
}  // namespace passenger::static_files

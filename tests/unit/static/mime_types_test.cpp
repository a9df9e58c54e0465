#include "static/mime_types.hpp"

#include <gtest/gtest.h>

namespace passenger::static_files {
namespace {

TEST(MimeTypesTest, CommonWebTypes) {
    EXPECT_EQ(mime_type_for("index.html"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type_for("a.htm"), "text/html; charset=utf-8");
    EXPECT_EQ(mime_type_for("site.css"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type_for("app.js"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type_for("app.mjs"), "text/javascript; charset=utf-8");
    EXPECT_EQ(mime_type_for("data.json"), "application/json; charset=utf-8");
    EXPECT_EQ(mime_type_for("app.js.map"), "application/json; charset=utf-8");
    EXPECT_EQ(mime_type_for("robots.txt"), "text/plain; charset=utf-8");
    EXPECT_EQ(mime_type_for("feed.xml"), "application/xml; charset=utf-8");
    EXPECT_EQ(mime_type_for("logo.svg"), "image/svg+xml; charset=utf-8");
    EXPECT_EQ(mime_type_for("table.csv"), "text/csv; charset=utf-8");
}

TEST(MimeTypesTest, BinaryTypes) {
    EXPECT_EQ(mime_type_for("a.png"), "image/png");
    EXPECT_EQ(mime_type_for("a.jpg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("a.jpeg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("a.gif"), "image/gif");
    EXPECT_EQ(mime_type_for("a.webp"), "image/webp");
    EXPECT_EQ(mime_type_for("favicon.ico"), "image/x-icon");
    EXPECT_EQ(mime_type_for("f.woff"), "font/woff");
    EXPECT_EQ(mime_type_for("f.woff2"), "font/woff2");
    EXPECT_EQ(mime_type_for("f.ttf"), "font/ttf");
    EXPECT_EQ(mime_type_for("m.wasm"), "application/wasm");
    EXPECT_EQ(mime_type_for("d.pdf"), "application/pdf");
    EXPECT_EQ(mime_type_for("d.zip"), "application/zip");
    EXPECT_EQ(mime_type_for("v.mp4"), "video/mp4");
    EXPECT_EQ(mime_type_for("v.webm"), "video/webm");
    EXPECT_EQ(mime_type_for("s.mp3"), "audio/mpeg");
}

TEST(MimeTypesTest, CaseInsensitiveAndPathAware) {
    EXPECT_EQ(mime_type_for("css/SITE.CSS"), "text/css; charset=utf-8");
    EXPECT_EQ(mime_type_for("/a/b/Photo.JpEg"), "image/jpeg");
    EXPECT_EQ(mime_type_for("v1.2/README"), kDefaultMimeType);
}

TEST(MimeTypesTest, UnknownIsOctetStream) {
    EXPECT_EQ(mime_type_for("Makefile"), "application/octet-stream");
    EXPECT_EQ(mime_type_for("archive.unknownext"), kDefaultMimeType);
    EXPECT_EQ(mime_type_for("trailing."), kDefaultMimeType);
    EXPECT_EQ(mime_type_for(""), kDefaultMimeType);
    EXPECT_EQ(mime_type_for("a.averyveryverylongextension"), kDefaultMimeType);
    EXPECT_EQ(mime_type_for("dir/"), kDefaultMimeType);
}

}  // namespace
}  // namespace passenger::static_files

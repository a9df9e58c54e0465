#include "server/access_log.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace passenger::server {
namespace {

AccessLogEntry sample() {
    AccessLogEntry entry;
    entry.time = std::chrono::system_clock::from_time_t(1796526245);  // 2026-12-06 03:04:05 UTC
    entry.client = "203.0.113.9";
    entry.method = "GET";
    entry.target = "/scores?top=10";
    entry.status = 200;
    entry.bytes_out = 512;
    entry.bytes_in = 3;
    entry.referer = "http://shop.example/";
    entry.user_agent = "curl/7.88 \"quoted\"";
    entry.queue_seconds = 0.0015;
    entry.app_seconds = 0.25;
    entry.total_seconds = 0.2521;
    entry.pid = 4242;
    return entry;
}

TEST(AccessLog, CombinedFormatThenTheTimes) {
    setenv("TZ", "UTC", 1);
    tzset();
    EXPECT_EQ(format_combined(sample()),
              "203.0.113.9 - - [06/Dec/2026:03:04:05 +0000] \"GET /scores?top=10 HTTP/1.1\" 200 "
              "512 \"http://shop.example/\" \"curl/7.88 \\\"quoted\\\"\" queue=0.002 app=0.250 "
              "total=0.252 pid=4242\n");
    AccessLogEntry bare = sample();
    bare.referer = {};
    bare.user_agent = "a\nb";
    bare.status = 0;
    bare.pid = 0;
    const std::string line = format_combined(bare);
    EXPECT_NE(line.find("\" - 512 \"-\" \"a\\x0Ab\" "), std::string::npos) << line;
    EXPECT_NE(line.find("pid=-\n"), std::string::npos);
    EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line whatever the client sent
}

TEST(AccessLog, JsonFormatIsOneObjectPerLine) {
    const std::string line = format_json(sample());
    ASSERT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1);
    auto json = nlohmann::json::parse(line);
    EXPECT_EQ(json["time"], "2026-12-06T03:04:05.000Z");
    EXPECT_EQ(json["client"], "203.0.113.9");
    EXPECT_EQ(json["uri"], "/scores?top=10");
    EXPECT_EQ(json["protocol"], "HTTP/1.1");
    EXPECT_EQ(json["status"], 200);
    EXPECT_EQ(json["bytes_out"], 512);
    EXPECT_EQ(json["bytes_in"], 3);
    EXPECT_EQ(json["user_agent"], "curl/7.88 \"quoted\"");
    EXPECT_DOUBLE_EQ(json["app_seconds"].get<double>(), 0.25);
    EXPECT_EQ(json["pid"], 4242);
    AccessLogEntry invalid = sample();
    invalid.target = "/\xff";
    invalid.pid = 0;
    auto replaced = nlohmann::json::parse(format_json(invalid));
    EXPECT_EQ(replaced["uri"], "/\xEF\xBF\xBD");
    EXPECT_TRUE(replaced["pid"].is_null());
}

}  // namespace
}  // namespace passenger::server

#include "admin/traffic_stats.hpp"

#include <gtest/gtest.h>

namespace passenger::admin {
namespace {

TEST(TrafficStats, CountsByStatusClassAndBucket) {
    TrafficStats stats;
    stats.record("/app", 200, 0.004, 10, 100);
    stats.record("/app", 204, 0.3, 0, 50);
    stats.record("/app", 503, 20.0, 0, 200);
    stats.record("/app", 0, 0.01, 5, 0);  // the client left: no status
    const AppTraffic& app = stats.apps().at("/app");
    EXPECT_EQ(app.responses_by_class, (std::array<uint64_t, 5>{0, 2, 0, 0, 1}));
    EXPECT_EQ(app.requests, 4u);
    EXPECT_EQ(app.request_body_bytes, 15u);
    EXPECT_EQ(app.response_bytes, 350u);
    EXPECT_EQ(app.duration_buckets[0], 1u);      // <= 5 ms
    EXPECT_EQ(app.duration_buckets[1], 1u);      // <= 10 ms
    EXPECT_EQ(app.duration_buckets[6], 1u);      // <= 500 ms
    EXPECT_EQ(app.duration_buckets.back(), 1u);  // over 10 s
}

TEST(TrafficStats, PrometheusHistogramIsCumulative) {
    TrafficStats stats;
    stats.record("/a\"b", 200, 0.004, 0, 1);
    stats.record("/a\"b", 404, 2.0, 0, 1);
    const std::string text = prometheus_traffic(stats);
    EXPECT_NE(text.find("# TYPE passenger_request_duration_seconds histogram\n"),
              std::string::npos);
    EXPECT_NE(text.find("passenger_responses_total{app_root=\"/a\\\"b\",status_class=\"4xx\"} 1\n"),
              std::string::npos)
        << text;
    EXPECT_NE(
        text.find(
            "passenger_request_duration_seconds_bucket{app_root=\"/a\\\"b\",le=\"0.005\"} 1\n"),
        std::string::npos);
    EXPECT_NE(
        text.find("passenger_request_duration_seconds_bucket{app_root=\"/a\\\"b\",le=\"2.5\"} 2\n"),
        std::string::npos);
    EXPECT_NE(
        text.find(
            "passenger_request_duration_seconds_bucket{app_root=\"/a\\\"b\",le=\"+Inf\"} 2\n"),
        std::string::npos);
    EXPECT_NE(text.find("passenger_request_duration_seconds_count{app_root=\"/a\\\"b\"} 2\n"),
              std::string::npos);
    EXPECT_NE(text.find("passenger_response_bytes_total{app_root=\"/a\\\"b\"} 2\n"),
              std::string::npos);
}

}  // namespace
}  // namespace passenger::admin

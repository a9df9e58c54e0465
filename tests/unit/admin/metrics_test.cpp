#include "admin/metrics.hpp"

#include <gtest/gtest.h>

namespace passenger::admin {
namespace {

PoolSnapshot two_processes() {
    PoolSnapshot pool;
    pool.max_pool_size = 6;
    pool.requests_total = 42;
    pool.requests_in_flight = 3;
    GroupSnapshot group;
    group.app_root = "/srv/my \"app\"";
    group.queue_length = 2;
    group.spawns_total = 4;
    group.restarts_total = 1;
    for (pid_t pid : {100, 101}) {
        ProcessSnapshot process;
        process.pid = pid;
        process.cpu_percent = 12.5;
        process.private_memory_kb = 1024;
        process.sessions = 1;
        process.processed = 20;
        group.processes.push_back(process);
    }
    pool.groups.push_back(group);
    return pool;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

TEST(Metrics, PoolWideCounters) {
    std::string text = prometheus_metrics(two_processes());
    EXPECT_TRUE(contains(text,
                         "# TYPE passenger_requests_total counter\n"
                         "passenger_requests_total 42\n"));
    EXPECT_TRUE(contains(text, "passenger_requests_in_flight 3\n"));
    EXPECT_TRUE(contains(text, "passenger_max_pool_size 6\n"));
    // Every request goes straight to its app's queue: a top-level queue would be a constant 0.
    EXPECT_FALSE(contains(text, "top_level_queue"));
}

TEST(Metrics, ClientRequestsAndConnectionsBySchemeAndProtocol) {
    PoolSnapshot pool = two_processes();
    pool.protocols = {
        {"http/1.1", "http", 2, 30}, {"http/1.1", "https", 1, 8}, {"h2", "https", 1, 4}};
    std::string text = prometheus_metrics(pool);
    EXPECT_TRUE(
        contains(text,
                 "# TYPE passenger_client_requests_total counter\n"
                 "passenger_client_requests_total{scheme=\"http\",protocol=\"http/1.1\"} 30\n"
                 "passenger_client_requests_total{scheme=\"https\",protocol=\"http/1.1\"} 8\n"
                 "passenger_client_requests_total{scheme=\"https\",protocol=\"h2\"} 4\n"));
    EXPECT_TRUE(
        contains(text, "passenger_client_connections{scheme=\"https\",protocol=\"h2\"} 1\n"));
}

TEST(Metrics, PerAppAndPerProcessWithEscapedLabels) {
    std::string text = prometheus_metrics(two_processes());
    const std::string app = "app_root=\"/srv/my \\\"app\\\"\"";
    EXPECT_TRUE(contains(text, "passenger_processes{" + app + "} 2\n"));
    EXPECT_TRUE(contains(text, "passenger_queue_length{" + app + "} 2\n"));
    EXPECT_TRUE(contains(text, "passenger_spawns_total{" + app + "} 4\n"));
    EXPECT_TRUE(contains(text, "passenger_restarts_total{" + app + "} 1\n"));
    EXPECT_TRUE(contains(text, "passenger_process_cpu_percent{" + app + ",pid=\"101\"} 12.5\n"));
    EXPECT_TRUE(contains(
        text, "passenger_process_private_memory_bytes{" + app + ",pid=\"100\"} 1048576\n"));
}

TEST(Metrics, EveryFamilyHasHelpAndType) {
    std::string text = prometheus_metrics(two_processes());
    size_t helps = 0, types = 0;
    for (size_t at = 0; (at = text.find("# HELP ", at)) != std::string::npos; ++at) ++helps;
    for (size_t at = 0; (at = text.find("# TYPE ", at)) != std::string::npos; ++at) ++types;
    EXPECT_EQ(helps, types);
    EXPECT_GE(helps, 15u);
    EXPECT_EQ(text.back(), '\n');
}

TEST(Metrics, LabelEscaping) {
    EXPECT_EQ(escape_label_value("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    EXPECT_EQ(escape_label_value("/plain/path"), "/plain/path");
}

}  // namespace
}  // namespace passenger::admin

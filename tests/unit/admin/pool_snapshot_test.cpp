#include "admin/pool_snapshot.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace passenger::admin {
namespace {

TEST(PoolSnapshot, RoundTripsThroughJson) {
    PoolSnapshot pool;
    pool.version = "1.0";
    pool.instance = "abc";
    pool.max_pool_size = 4;
    pool.requests_total = 9;
    GroupSnapshot group;
    group.app_root = "/srv/app";
    group.queue_length = 3;
    group.restarts_total = 2;
    ProcessSnapshot process;
    process.pid = 55;
    process.state = "draining";
    process.sessions = 2;
    process.processed = 10;
    process.uptime_seconds = 61.5;
    process.cpu_percent = 3.25;
    process.private_memory_kb = 14336;
    group.processes = {process, process};
    pool.groups = {group};

    nlohmann::json json = pool;
    EXPECT_EQ(json["process_count"], 2);
    PoolSnapshot back = json.get<PoolSnapshot>();
    EXPECT_EQ(back.instance, "abc");
    EXPECT_EQ(back.max_pool_size, 4);
    ASSERT_EQ(back.groups.size(), 1u);
    EXPECT_EQ(back.groups[0].queue_length, 3u);
    EXPECT_EQ(back.groups[0].restarts_total, 2u);
    ASSERT_EQ(back.groups[0].processes.size(), 2u);
    EXPECT_EQ(back.groups[0].processes[1].state, "draining");
    EXPECT_EQ(back.groups[0].processes[1].private_memory_kb, 14336u);
    EXPECT_DOUBLE_EQ(back.groups[0].processes[1].uptime_seconds, 61.5);
    EXPECT_EQ(back.process_count(), 2u);
}

TEST(PoolSnapshot, MissingFieldsTakeDefaults) {
    PoolSnapshot back =
        nlohmann::json::parse(R"({"groups": [{"app_root": "/a"}]})").get<PoolSnapshot>();
    ASSERT_EQ(back.groups.size(), 1u);
    EXPECT_EQ(back.groups[0].app_root, "/a");
    EXPECT_TRUE(back.groups[0].processes.empty());
    EXPECT_EQ(back.max_pool_size, 0);
}

}  // namespace
}  // namespace passenger::admin

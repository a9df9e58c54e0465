// The Pool's rules across apps, on real app processes (pool_harness.hpp): the shared
// --max-pool-size cap, eviction of the longest-idle process of another app, settings changes,
// removal.
#include "pool/pool.hpp"

#include "pool_harness.hpp"

#include <gtest/gtest.h>
#include <signal.h>

#include <cerrno>

namespace passenger::pool {
namespace {

using testing::PoolHarness;

bool process_exists(pid_t pid) {
    return ::kill(pid, 0) == 0 || errno != ESRCH;
}

TEST(Pool, KeepsOneGroupPerAppRoot) {
    PoolHarness harness(2);
    auto options = harness.app_options();
    Group& group = harness.pool().group_for(options);
    auto same_app = std::make_shared<config::Options>(*options);
    EXPECT_EQ(&harness.pool().group_for(same_app), &group);
    Group& other = harness.pool().group_for(harness.app_options());
    EXPECT_NE(&other, &group);
    ASSERT_EQ(harness.pool().groups().size(), 2u);
    EXPECT_EQ(harness.pool().groups()[0], &group);
    EXPECT_EQ(harness.pool().find_group(options->app_root), &group);
    EXPECT_EQ(group.counters().restarts, 0u) << "equal settings restarted the app";
}

TEST(Pool, CapsTheProcessesOfAllAppsTogether) {
    PoolHarness harness(2);
    auto first_options = harness.app_options();
    first_options->min_instances = 2;
    Group& first = harness.pool().group_for(first_options);
    harness.wait_for_ready(first, 2);
    auto second_options = harness.app_options();
    second_options->max_request_queue_size = 10;
    Group& second = harness.pool().group_for(second_options);
    harness.io().run_for(std::chrono::milliseconds(50));
    EXPECT_EQ(second.spawning(), 0) << "--min-instances alone evicts nothing";

    // Both processes of the first app are busy: the second app's request waits, nothing spawns.
    auto busy_one = harness.session(first);
    auto busy_two = harness.session(first);
    ASSERT_TRUE(busy_one->served() && busy_two->served());
    auto waiting = harness.request(second);
    harness.run_until([&] { return second.queue_length() == 1; });
    EXPECT_EQ(second.spawning(), 0);
    EXPECT_EQ(harness.pool().live_count(), 2);

    // One becomes idle: it makes room, and the waiting request gets a process of its own app.
    const pid_t freed = busy_one->process().pid;
    busy_one->release();
    harness.run_until([&] { return waiting->answered(); });
    ASSERT_TRUE(waiting->served()) << waiting->result->error->message;
    EXPECT_EQ(harness.ready_pids(first), std::vector<pid_t>{busy_two->process().pid});
    harness.run_until([&] { return !process_exists(freed); });
    EXPECT_LE(harness.pool().live_count(), 2);

    // The second app goes: the room it leaves brings the first back to --min-instances.
    waiting->release();
    harness.pool().remove_group(second_options->app_root);
    harness.wait_for_ready(first, 2);
}

TEST(Pool, EvictsTheLongestIdleProcessOfAnotherApp) {
    PoolHarness harness(3);
    auto first_options = harness.app_options();
    Group& first = harness.pool().group_for(first_options);
    auto second_options = harness.app_options();
    second_options->min_instances = 2;
    Group& second = harness.pool().group_for(second_options);
    harness.wait_for_ready(first, 1);
    harness.wait_for_ready(second, 2);

    // Used in this order, the second app's other process is the one idle the longest.
    auto use = [&](Group& group) { harness.session(group)->release(); };
    use(first);
    auto held = harness.session(second);
    const pid_t recent = held->process().pid;
    held->release();
    pid_t longest_idle = 0;
    for (pid_t pid : harness.ready_pids(second))
        if (pid != recent) longest_idle = pid;
    ASSERT_NE(longest_idle, 0);
    const std::vector<pid_t> first_pids = harness.ready_pids(first);

    Group& third = harness.pool().group_for(harness.app_options());
    auto request = harness.session(third);
    ASSERT_TRUE(request->served()) << request->result->error->message;
    EXPECT_EQ(harness.ready_pids(second), std::vector<pid_t>{recent});
    EXPECT_EQ(harness.ready_pids(first), first_pids) << "a more recently used process went";
    harness.run_until([&] { return !process_exists(longest_idle); });
    EXPECT_EQ(harness.pool().live_count(), 3);
}

TEST(Pool, RestartsAnAppWhoseSettingsChanged) {
    PoolHarness harness(2);
    auto options = harness.app_options();
    Group& group = harness.pool().group_for(options);
    harness.wait_for_ready(group, 1);
    const pid_t old_pid = group.processes().front()->pid;

    // A front-end setting is not the app's: no restart.
    auto front_end_only = std::make_shared<config::Options>(*options);
    front_end_only->front_end.client_max_body_size = 1024;
    harness.pool().group_for(front_end_only);
    EXPECT_EQ(group.counters().restarts, 0u);

    auto changed = std::make_shared<config::Options>(*options);
    changed->envvars["GREETING"] = "hello";
    EXPECT_EQ(&harness.pool().group_for(changed), &group);
    EXPECT_EQ(group.counters().restarts, 1u);
    EXPECT_EQ(group.options().envvars.at("GREETING"), "hello");
    harness.run_until([&] {
        auto pids = harness.ready_pids(group);
        return pids.size() == 1 && pids.front() != old_pid;
    });
    harness.run_until([&] { return !process_exists(old_pid); });
}

TEST(Pool, RemoveGroupStopsTheAppAndForgetsIt) {
    PoolHarness harness(3);
    auto kept_options = harness.app_options();
    Group& kept = harness.pool().group_for(kept_options);
    auto removed_options = harness.app_options();
    Group& removed = harness.pool().group_for(removed_options);
    harness.wait_for_ready(kept, 1);
    harness.wait_for_ready(removed, 1);
    const pid_t removed_pid = removed.processes().front()->pid;
    // A request in flight keeps the group object alive; one in its queue gets 503.
    auto in_flight = harness.session(removed);
    auto queued = harness.request(removed);
    harness.run_until([&] { return removed.queue_length() == 1; });

    harness.pool().retain_only({kept_options->app_root});
    harness.run_until([&] { return queued->answered(); });
    ASSERT_TRUE(queued->result->error.has_value());
    EXPECT_EQ(queued->result->error->kind, SessionErrorKind::shutting_down);
    in_flight->release();
    EXPECT_EQ(harness.pool().find_group(removed_options->app_root), nullptr);
    EXPECT_EQ(harness.pool().groups(), std::vector<Group*>{&kept});
    EXPECT_FALSE(harness.pool().remove_group(removed_options->app_root)) << "removed twice";
    harness.run_until([&] { return !process_exists(removed_pid); });
    EXPECT_EQ(harness.ready_pids(kept).size(), 1u);

    // Configured again later, the app starts afresh.
    Group& again = harness.pool().group_for(removed_options);
    harness.wait_for_ready(again, 1);
    EXPECT_EQ(again.counters().spawns, 1u);
}

}  // namespace
}  // namespace passenger::pool

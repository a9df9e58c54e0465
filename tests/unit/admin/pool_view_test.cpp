// What passenger-status and the metrics see: every app in the pool, with its processes.
#include "admin/pool_view.hpp"

#include "../pool/pool_harness.hpp"

#include <gtest/gtest.h>

namespace passenger::admin {
namespace {

using pool::testing::PoolHarness;

TEST(PoolView, ListsEveryAppWithItsProcessesAndRestartsOneByRoot) {
    PoolHarness harness(3);
    auto first = harness.app_options();
    first->min_instances = 2;
    auto second = harness.app_options();
    pool::Group& first_group = harness.pool().group_for(first);
    pool::Group& second_group = harness.pool().group_for(second);
    harness.wait_for_ready(first_group, 2);
    harness.wait_for_ready(second_group, 1);

    std::vector<GroupSnapshot> snapshots = take_snapshots(harness.pool());
    ASSERT_EQ(snapshots.size(), 2u);
    EXPECT_EQ(snapshots[0].app_root, first->app_root);
    EXPECT_EQ(snapshots[0].processes.size(), 2u);
    EXPECT_EQ(snapshots[1].app_root, second->app_root);
    ASSERT_EQ(snapshots[1].processes.size(), 1u);
    EXPECT_EQ(snapshots[1].processes[0].state, "ready");

    EXPECT_FALSE(restart_app_in(harness.pool(), "/no/such/app"));
    EXPECT_TRUE(restart_app_in(harness.pool(), second->app_root));
    EXPECT_EQ(second_group.counters().restarts, 1u);
    EXPECT_EQ(first_group.counters().restarts, 0u);
}

}  // namespace
}  // namespace passenger::admin

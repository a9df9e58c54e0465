// A Group's selection and queue rules, on real app processes (pool_harness.hpp).
#include "pool/group.hpp"

#include "pool_harness.hpp"

#include <gtest/gtest.h>

namespace passenger::pool {
namespace {

using testing::PoolHarness;

TEST(GroupSelection, GivesEachRequestTheLeastBusyProcess) {
    PoolHarness harness(4);
    auto options = harness.app_options();
    options->min_instances = 2;
    options->max_concurrent_requests = 0;  // unlimited: "busy" is the number of requests
    Group& group = harness.pool().group_for(options);
    harness.wait_for_ready(group, 2);

    auto first = harness.session(group);
    auto second = harness.session(group);
    ASSERT_TRUE(first->served() && second->served());
    EXPECT_NE(first->process().pid, second->process().pid) << "an idle process was left out";

    auto third = harness.session(group);  // both have one request: either one
    ASSERT_TRUE(third->served());
    const pid_t busier = third->process().pid;
    const pid_t other =
        busier == first->process().pid ? second->process().pid : first->process().pid;
    (busier == first->process().pid ? second : first)->release();
    auto fourth = harness.session(group);
    ASSERT_TRUE(fourth->served());
    EXPECT_EQ(fourth->process().pid, other) << "not the process with the fewest requests";
    EXPECT_EQ(group.processes().size(), 2u) << "spawned although a process had room";
}

TEST(GroupQueue, QueuesInOrderOfArrivalUpToTheLimit) {
    PoolHarness harness(1);
    auto options = harness.app_options();
    options->max_request_queue_size = 2;
    Group& group = harness.pool().group_for(options);
    harness.wait_for_ready(group, 1);

    auto first = harness.session(group);
    ASSERT_TRUE(first->served());
    auto second = harness.request(group);
    auto third = harness.request(group);
    harness.run_until([&] { return group.queue_length() == 2; });
    auto fourth = harness.session(group);  // the queue is full
    ASSERT_TRUE(fourth->result->error.has_value());
    EXPECT_EQ(fourth->result->error->kind, SessionErrorKind::queue_full);
    EXPECT_EQ(fourth->result->error->status, 503);
    EXPECT_FALSE(second->answered());
    EXPECT_FALSE(third->answered());

    first->release();
    harness.run_until([&] { return second->answered(); });
    EXPECT_TRUE(second->served());
    EXPECT_FALSE(third->answered()) << "the later request passed the earlier one";
    second->release();
    harness.run_until([&] { return third->answered(); });
    EXPECT_TRUE(third->served());
    EXPECT_EQ(group.processes().size(), 1u);
}

TEST(GroupQueue, AnswersQueuedRequestsWithAnErrorAtShutdown) {
    PoolHarness harness(1);
    Group& group = harness.pool().group_for(harness.app_options());
    harness.wait_for_ready(group, 1);
    auto first = harness.session(group);
    auto queued = harness.request(group);
    harness.run_until([&] { return group.queue_length() == 1; });

    bool stopped = false;
    asio::co_spawn(harness.io(), group.shutdown(), [&](std::exception_ptr) { stopped = true; });
    harness.run_until([&] { return queued->answered(); });
    ASSERT_TRUE(queued->result->error.has_value());
    EXPECT_EQ(queued->result->error->kind, SessionErrorKind::shutting_down);
    EXPECT_EQ(queued->result->error->status, 503);
    first->release();
    harness.run_until([&] { return stopped; });
    EXPECT_TRUE(group.processes().empty());
}

TEST(GroupLifecycle, DrainsAProcessPastMaxRequestsAndReplacesIt) {
    PoolHarness harness(2);
    auto options = harness.app_options();
    options->max_requests = 1;
    Group& group = harness.pool().group_for(options);
    harness.wait_for_ready(group, 1);
    auto first = harness.session(group);
    ASSERT_TRUE(first->served());
    std::shared_ptr<Process> old = group.processes().front();
    EXPECT_EQ(old->state, ProcessState::ready);
    first->release();
    // With no request left it stops at once; a replacement keeps --min-instances.
    EXPECT_EQ(old->state, ProcessState::stopping);
    harness.run_until([&] { return old->state == ProcessState::gone; });
    harness.wait_for_ready(group, 1);
    EXPECT_NE(group.processes().front()->pid, old->pid);
    EXPECT_EQ(group.counters().crashes, 0u) << "a stop the pool asked for counted as a crash";
}

}  // namespace
}  // namespace passenger::pool

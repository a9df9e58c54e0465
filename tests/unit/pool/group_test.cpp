// A Group's selection and queue rules, on real app processes (pool_harness.hpp).
#include "pool/group.hpp"

#include "common/event_loops.hpp"
#include "pool_harness.hpp"

#include <gtest/gtest.h>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <map>
#include <mutex>

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

// Issue 17: requests on two event loops at once take and give back sessions on their own loop
// when a process has room (the group's mutex) and through the pool's loop otherwise (the queue).
// Two processes of 2 slots each, six requesters: they meet full processes, queue, pass, and a
// third of them are sticky to the first process. The pool's rules hold as with one loop.
TEST(GroupThreads, TwoLoopsShareOneQueueOneCapAndTheStickyRule) {
    EventLoops loops(2);
    spawn::ChildReaper reaper(loops.main());
    spawn::Spawner spawner(loops.main(), reaper);
    Pool pool(loops.main(), 2, spawner, reaper, &loops);
    std::vector<std::string> dirs;
    auto options = testing::tiny_app_options(dirs);
    options->min_instances = 2;
    options->max_concurrent_requests = 2;

    constexpr int requesters_per_loop = 3;
    constexpr int requests_each = 300;
    constexpr int total = 2 * requesters_per_loop * requests_each;
    Group* group = nullptr;
    std::string sticky_id;  // the first process's
    std::atomic<int> served = 0, failed = 0, over_capacity = 0, sticky_elsewhere = 0;
    std::atomic<int> requesters_done = 0;
    std::mutex per_pid_mutex;
    std::map<pid_t, int> per_pid;

    auto requester = [&]() -> asio::awaitable<void> {
        auto executor = co_await asio::this_coro::executor;
        for (int i = 0; i < requests_each; ++i) {
            const std::string sticky = i % 3 == 0 ? sticky_id : std::string();
            Group::OnQueued no_watch;
            auto asking = group->get_session(no_watch, sticky);
            SessionResult result = co_await std::move(asking);
            if (!result.session) {
                ++failed;
                continue;
            }
            Process& process = result.session.process();
            if (process.sessions > process.max_sessions) ++over_capacity;
            if (!sticky.empty() && process.sticky_id != sticky) ++sticky_elsewhere;
            {
                std::lock_guard lock(per_pid_mutex);
                ++per_pid[process.pid];
            }
            // Held across a turn of its loop, so that the others find the process busy.
            co_await asio::post(executor, asio::use_awaitable);
            ++served;
        }  // each session is released on its requester's loop
    };
    // Predicates are named: no lambda temporary inside a co_await (common/run_on.hpp: GCC 12).
    auto wait_until = [&](auto& done) -> asio::awaitable<void> {
        asio::steady_timer timer(loops.main());
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
        while (!done() && std::chrono::steady_clock::now() < deadline) {
            timer.expires_after(std::chrono::milliseconds(5));
            co_await timer.async_wait(asio::use_awaitable);
        }
        EXPECT_TRUE(done()) << "timed out";
    };
    auto scenario = [&]() -> asio::awaitable<void> {
        group = &pool.group_for(options);
        auto both_ready = [&] {
            return testing::PoolHarness::ready_count(*group) == 2 && group->spawning() == 0;
        };
        co_await wait_until(both_ready);
        sticky_id = group->processes().front()->sticky_id;
        for (size_t loop = 0; loop < loops.size(); ++loop) {
            for (int i = 0; i < requesters_per_loop; ++i)
                asio::co_spawn(loops.at(loop), requester,
                               [&](std::exception_ptr) { ++requesters_done; });
        }
        auto all_done = [&] { return requesters_done == 2 * requesters_per_loop; };
        co_await wait_until(all_done);
        // Sessions given back on loop 1 may still be on their way here (posted releases).
        auto all_released = [&] {
            return group->processes().size() == 2 && group->processes()[0]->sessions == 0 &&
                   group->processes()[1]->sessions == 0;
        };
        co_await wait_until(all_released);

        EXPECT_EQ(served.load(), total);
        EXPECT_EQ(failed.load(), 0);
        EXPECT_EQ(over_capacity.load(), 0) << "a process got more sessions than its concurrency";
        EXPECT_EQ(sticky_elsewhere.load(), 0) << "a sticky request went to another live process";
        EXPECT_EQ(group->queue_length(), 0u);
        EXPECT_FALSE(pool.requests_waiting());
        EXPECT_EQ(group->counters().requests, static_cast<uint64_t>(total));
        EXPECT_EQ(group->counters().spawns, 2u) << "spawned beyond --max-pool-size";
        uint64_t processed = 0;
        for (const auto& process : group->processes()) {
            EXPECT_TRUE(process->ready());
            processed += process->processed;
            std::lock_guard lock(per_pid_mutex);
            EXPECT_GT(per_pid[process->pid], 0) << "a process with room was left out";
        }
        EXPECT_EQ(processed, static_cast<uint64_t>(total));
        co_await pool.shutdown();
        loops.stop();
    };
    asio::co_spawn(loops.main(), scenario, asio::detached);
    loops.run();
    std::error_code ignored;
    for (const auto& dir : dirs) std::filesystem::remove_all(dir, ignored);
}

}  // namespace
}  // namespace passenger::pool

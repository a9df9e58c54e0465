#include "pool/process_metrics.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <vector>

namespace passenger::pool {
namespace {

TEST(ProcessMetrics, ReadsOwnCpuAndMemory) {
    auto before = read_cpu_times(::getpid());
    ASSERT_TRUE(before.has_value());
    // Burn CPU until the tick counter (10 ms resolution) moved by 20 ticks, however long a loaded
    // machine makes that take (bounded), then check the share against the wall time it took.
    const auto ticks_per_second = static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
    auto start = std::chrono::steady_clock::now();
    auto deadline = start + std::chrono::seconds(20);
    volatile uint64_t sink = 0;
    std::optional<CpuTimes> after;
    do {
        for (int i = 0; i < 100000; ++i) sink = sink + 1;
        after = read_cpu_times(::getpid());
        ASSERT_TRUE(after.has_value());
    } while (after->ticks - before->ticks < ticks_per_second / 5 &&
             std::chrono::steady_clock::now() < deadline);
    ASSERT_GE(after->ticks - before->ticks, ticks_per_second / 5) << "no CPU time in 20 s";
    double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double percent = cpu_percent(*before, *after, elapsed);
    EXPECT_GT(percent, 0.0);
    EXPECT_LT(percent, 150.0);  // one thread: at most one core, plus tick rounding

    std::vector<char> touched(32 * 1024 * 1024, 1);  // 32 MiB of private, dirty pages
    auto memory = read_private_memory_kb(::getpid());
    ASSERT_TRUE(memory.has_value());
    EXPECT_GT(*memory, 32u * 1024);
    EXPECT_EQ(touched[12345], 1);
}

TEST(ProcessMetrics, GoneProcessHasNoMetrics) {
    EXPECT_FALSE(read_cpu_times(999999999).has_value());
    EXPECT_FALSE(read_private_memory_kb(999999999).has_value());
}

}  // namespace
}  // namespace passenger::pool

namespace passenger::pool {
namespace {

TEST(ProcessMetrics, RunnableTimeGrowsWhileBusy) {
    auto before = read_runnable_ns(::getpid());
    ASSERT_TRUE(before.has_value());
    auto start = std::chrono::steady_clock::now();
    volatile uint64_t sink = 0;
    while (std::chrono::steady_clock::now() - start < std::chrono::milliseconds(100))
        sink = sink + 1;
    auto after = read_runnable_ns(::getpid());
    ASSERT_TRUE(after.has_value());
    EXPECT_GE(*after - *before, 90'000'000u);  // at least 90 ms of the 100 ms busy loop
}

}  // namespace
}  // namespace passenger::pool

#include "pool/process.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstring>

namespace passenger::pool {
namespace {

// A process group like a `/bin/sh -c` app: a small leader, and a child (the real app) holding
// 32 MiB of private memory. Both wait for SIGKILL. The leader's pid is the group's id.
class WrapperGroup {
  public:
    WrapperGroup() {
        int ready[2];
        EXPECT_EQ(::pipe(ready), 0);
        leader_ = ::fork();
        if (leader_ == 0) {
            ::setpgid(0, 0);
            if (::fork() == 0) {
                static std::vector<char> held(32 * 1024 * 1024);
                std::memset(held.data(), 1, held.size());
                (void)!::write(ready[1], "x", 1);
                for (;;) ::pause();
            }
            for (;;) ::pause();
        }
        ::setpgid(leader_, leader_);  // also here: no race with the first look
        char byte;
        EXPECT_EQ(::read(ready[0], &byte, 1), 1);
        ::close(ready[0]);
        ::close(ready[1]);
    }
    ~WrapperGroup() {
        ::kill(-leader_, SIGKILL);
        ::waitpid(leader_, nullptr, 0);
    }
    pid_t leader() const { return leader_; }

  private:
    pid_t leader_ = -1;
};

TEST(ProcessMetrics, AProcessGroupHasItsLeaderFirstAndItsChildren) {
    WrapperGroup group;
    auto members = process_group_members({group.leader(), 999999999});
    ASSERT_EQ(members.size(), 1u) << "a group with no member is absent";
    const std::vector<pid_t>& pids = members[group.leader()];
    ASSERT_EQ(pids.size(), 2u);
    EXPECT_EQ(pids.front(), group.leader());
    EXPECT_TRUE(process_group_members({}).empty());
}

TEST(ProcessMetrics, AProcessCountsWithEverythingInItsGroup) {
    WrapperGroup group;
    Process process;
    process.pid = group.leader();
    auto members = process_group_members({process.pid});
    sample_process_group(process, members[process.pid], 1.0);
    EXPECT_GT(process.private_memory_kb, 32u * 1024) << "the child's memory counts";
    ASSERT_TRUE(process.last_cpu_sample.has_value());
    EXPECT_EQ(process.last_runnable_ns.size(), 2u) << "each member's main thread is sampled";

    // The leader alone is small: what the pool saw before it counted the group.
    Process leader_only;
    sample_process_group(leader_only, {group.leader()}, 1.0);
    EXPECT_LT(leader_only.private_memory_kb, 16u * 1024);
}

// The /proc scan is kept: a member that leaves is noticed by the next scan, which comes when the
// groups asked for change or once rescan_interval has passed.
TEST(ProcessMetrics, GroupMembersAreScannedAgainWhenTheGroupsChangeOrAfterTheInterval) {
    ProcessGroupMembers cache;
    const auto start = ProcessGroupMembers::Clock::now();
    EXPECT_TRUE(cache.of({999999999}, start).empty());
    WrapperGroup group;
    const std::vector<pid_t> pids = cache.of({group.leader()}, start).at(group.leader());
    ASSERT_EQ(pids.size(), 2u) << "other groups asked for: scanned again";

    // The child exits (the leader does not reap it: a zombie is no member).
    const pid_t child = pids.back();
    ASSERT_EQ(::kill(child, SIGKILL), 0);
    for (int i = 0; i < 500 && process_group_members({group.leader()})[group.leader()].size() > 1;
         ++i)
        ::usleep(10'000);
    ASSERT_EQ(process_group_members({group.leader()})[group.leader()].size(), 1u);

    EXPECT_EQ(cache.of({group.leader()}, start + std::chrono::seconds(1)).at(group.leader()).size(),
              2u)
        << "the same groups within the interval: the last scan's answer";
    EXPECT_EQ(cache.of({group.leader()}, start + ProcessGroupMembers::rescan_interval)
                  .at(group.leader())
                  .size(),
              1u);
}

}  // namespace
}  // namespace passenger::pool

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

#include "spawn/readiness_wait.hpp"

#include <gtest/gtest.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

#include <chrono>
#include <optional>

namespace passenger::spawn {
namespace {

using namespace std::chrono_literals;

// Runs one sleep to its end; the result says whether it was woken.
std::optional<bool> run_sleep(asio::io_context& io, ReadinessWait& wait,
                              std::chrono::milliseconds duration) {
    std::optional<bool> woken;
    asio::co_spawn(
        io, [&]() -> asio::awaitable<void> { woken = co_await wait.sleep(duration); },
        asio::detached);
    io.run();
    io.restart();
    return woken;
}

TEST(ReadinessWait, SleepRunsItsCourseWithoutAWake) {
    asio::io_context io;
    ReadinessWait wait(io);
    EXPECT_EQ(run_sleep(io, wait, 1ms), false);
}

TEST(ReadinessWait, WakeEndsASleepInProgress) {
    asio::io_context io;
    ReadinessWait wait(io);
    // A sleep of an hour that returns at all was cut short.
    asio::post(io, [&] { wait.wake(); });
    EXPECT_EQ(run_sleep(io, wait, 1h), true);
}

TEST(ReadinessWait, WakeWhileNobodySleepsEndsTheNextSleepOnce) {
    asio::io_context io;
    ReadinessWait wait(io);
    wait.wake();
    EXPECT_EQ(run_sleep(io, wait, 1h), true);
    EXPECT_EQ(run_sleep(io, wait, 1ms), false);
}

}  // namespace
}  // namespace passenger::spawn

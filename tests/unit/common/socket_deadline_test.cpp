#include "common/socket_deadline.hpp"

#include "../socket_pair.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>

#include <array>
#include <functional>

namespace passenger {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct ReadOutcome {
    asio::error_code error;
    Clock::time_point ended;
};

// Starts a read on `pair.near` and runs the loop until it ends (bounded). Durations are measured
// by the tests from before they arm the deadline: a loaded machine (ASan, CI) may take several
// milliseconds to get here, which a clock started here would not count.
ReadOutcome read_once(testing::SocketPair& pair, std::function<void()> after_start = {}) {
    ReadOutcome outcome;
    bool done = false;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            std::array<char, 16> buffer;
            co_await pair.near.async_read_some(
                asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, outcome.error));
            outcome.ended = Clock::now();
            done = true;
        },
        asio::detached);
    if (after_start) after_start();
    pair.io.run_for(3s);
    EXPECT_TRUE(done);
    return outcome;
}

TEST(SocketDeadline, CancelsThePendingReadWhenItPasses) {
    testing::SocketPair pair;
    SocketDeadline deadline(pair.near, 1s);
    const auto armed = Clock::now();
    deadline.expires_after(100ms);
    ReadOutcome outcome = read_once(pair);
    EXPECT_EQ(outcome.error, asio::error::operation_aborted);
    EXPECT_TRUE(deadline.expired());
    EXPECT_GE(outcome.ended - armed, 100ms);  // never early
    EXPECT_LT(outcome.ended - armed, 1s);
}

TEST(SocketDeadline, MovingItLaterDefersTheCancellation) {
    testing::SocketPair pair;
    // Granularity 50 ms: the timer fires early, finds the deadline moved, and waits again.
    SocketDeadline deadline(pair.near, 50ms);
    const auto armed = Clock::now();
    deadline.expires_after(100ms);
    asio::steady_timer later(pair.io);
    ReadOutcome outcome = read_once(pair, [&] {
        later.expires_after(60ms);
        later.async_wait([&](const asio::error_code&) { deadline.expires_after(300ms); });
    });
    EXPECT_EQ(outcome.error, asio::error::operation_aborted);
    EXPECT_GE(outcome.ended - armed, 360ms);  // moved at 60 ms or later, to 300 ms after that
}

TEST(SocketDeadline, ADisarmedDeadlineNeverFires) {
    testing::SocketPair pair;
    SocketDeadline deadline(pair.near, 1s);
    deadline.expires_after(50ms);
    deadline.disarm();
    asio::steady_timer reply(pair.io);
    ReadOutcome outcome = read_once(pair, [&] {
        reply.expires_after(200ms);
        reply.async_wait(
            [&](const asio::error_code&) { asio::write(pair.far, asio::buffer("x", 1)); });
    });
    EXPECT_FALSE(outcome.error);
    EXPECT_FALSE(deadline.expired());
}

TEST(SocketDeadline, AZeroTimeoutMeansNone) {
    testing::SocketPair pair;
    SocketDeadline deadline(pair.near, 1s);
    deadline.expires_after(0s);
    asio::steady_timer reply(pair.io);
    ReadOutcome outcome = read_once(pair, [&] {
        reply.expires_after(100ms);
        reply.async_wait(
            [&](const asio::error_code&) { asio::write(pair.far, asio::buffer("x", 1)); });
    });
    EXPECT_FALSE(outcome.error);
}

TEST(SocketDeadline, ATimeoutShorterThanTheGranularityIsStillOnTime) {
    testing::SocketPair pair;
    SocketDeadline deadline(pair.near, 10s);
    const auto armed = Clock::now();
    deadline.expires_after(5s);
    deadline.expires_after(100ms);
    ReadOutcome outcome = read_once(pair);
    EXPECT_EQ(outcome.error, asio::error::operation_aborted);
    EXPECT_LT(outcome.ended - armed, 1s);
}

TEST(SocketDeadline, OutlivingTheOwnerIsSafe) {
    testing::SocketPair pair;
    {
        SocketDeadline deadline(pair.near, 1s);
        deadline.expires_after(10ms);
    }
    pair.io.run_for(100ms);  // the cancelled wait completes without touching the socket
    EXPECT_TRUE(pair.near.is_open());
}

}  // namespace
}  // namespace passenger

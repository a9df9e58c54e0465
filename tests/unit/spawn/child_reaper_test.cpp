#include "spawn/child_reaper.hpp"

#include "common/exit_status.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>

namespace passenger::spawn {
namespace {

TEST(ChildReaper, ReportsExitOfWatchedChildEvenIfItExitedFirst) {
    asio::io_context io;
    ChildReaper reaper(io);
    pid_t early = ::fork();
    if (early == 0) _exit(7);
    pid_t late = ::fork();
    if (late == 0) _exit(9);
    int early_status = -1;
    int late_status = -1;
    reaper.watch(late, [&](int status) { late_status = status; });
    auto run_until = [&io](const int& status) {
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
        while (status == -1 && std::chrono::steady_clock::now() < deadline)
            io.run_for(std::chrono::milliseconds(10));
    };
    // `early` is usually reaped as unclaimed before anyone watches it; its status must survive.
    run_until(late_status);
    reaper.watch(early, [&](int status) { early_status = status; });
    run_until(early_status);
    EXPECT_EQ(describe_exit(early_status), "exited with code 7");
    EXPECT_EQ(describe_exit(late_status), "exited with code 9");
}

}  // namespace
}  // namespace passenger::spawn

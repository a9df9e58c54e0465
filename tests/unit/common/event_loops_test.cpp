#include "common/event_loops.hpp"

#include <asio/post.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace passenger {
namespace {

TEST(EventLoops, EachLoopRunsOnAThreadThatKnowsItsIndex) {
    EventLoops loops(3);
    std::vector<size_t> seen(3, 99);
    std::set<std::thread::id> threads;
    std::mutex mutex;
    std::atomic<int> done = 0;
    for (size_t i = 0; i < loops.size(); ++i) {
        asio::post(loops.at(i), [&, i] {
            std::lock_guard lock(mutex);
            seen[i] = EventLoops::current();
            threads.insert(std::this_thread::get_id());
            if (++done == 3) loops.stop();
        });
    }
    loops.run();  // returns once stopped, the other threads joined
    EXPECT_EQ(seen, (std::vector<size_t>{0, 1, 2}));
    EXPECT_EQ(threads.size(), 3u);
    EXPECT_EQ(EventLoops::current(), 0u);  // run() was called on the main loop's thread
}

TEST(EventLoops, OneLoopIsTheCallersThreadAlone) {
    EventLoops loops(1);
    std::thread::id ran_on;
    asio::post(loops.main(), [&] {
        ran_on = std::this_thread::get_id();
        EXPECT_TRUE(loops.on_main_loop());
        loops.stop();
    });
    loops.run();
    EXPECT_EQ(ran_on, std::this_thread::get_id());
}

TEST(EventLoops, OnlyTheMainLoopIsTheMainLoop) {
    EventLoops loops(2);
    std::atomic<bool> main_says = false, other_says = true;
    asio::post(loops.at(1), [&] {
        other_says = loops.on_main_loop();
        asio::post(loops.main(), [&] {
            main_says = loops.on_main_loop();
            loops.stop();
        });
    });
    loops.run();
    EXPECT_TRUE(main_says);
    EXPECT_FALSE(other_says);
}

TEST(EventLoops, AvailableCpusIsAtLeastOne) {
    EXPECT_GE(available_cpus(), 1u);
    EXPECT_LE(available_cpus(), std::thread::hardware_concurrency() == 0
                                    ? available_cpus()
                                    : std::thread::hardware_concurrency());
}

}  // namespace
}  // namespace passenger

#include "common/event_loops.hpp"

#include "common/run_on.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
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

// A temporary function object does not compile (GCC 12 would destroy it twice: run_on.hpp).
template <typename Function>
concept RunOnAccepts = requires(asio::io_context& loop, Function&& function) {
    run_on(loop, std::forward<Function>(function));
};
auto run_on_answer = [] { return 42; };
static_assert(RunOnAccepts<decltype(run_on_answer)&>);
static_assert(!RunOnAccepts<decltype(run_on_answer)>);

TEST(RunOn, RunsOnTheGivenLoopAndResumesTheCallerOnItsOwnWithTheResult) {
    EventLoops loops(2);
    // What the pool's lookup captures: run_on must neither copy it away nor release it.
    auto settings = std::make_shared<int>(7);
    size_t function_loop = 99, resumed_loop = 99;
    long uses_inside = 0, uses_after = 0;
    int result = 0;
    auto read_on_main = [&function_loop, &uses_inside, settings] {
        function_loop = EventLoops::current();
        uses_inside = settings.use_count();
        return *settings * 6;
    };
    auto caller = [&]() -> asio::awaitable<void> {
        result = co_await run_on(loops.main(), read_on_main);
        resumed_loop = EventLoops::current();
        uses_after = settings.use_count();
        loops.stop();
    };
    asio::co_spawn(loops.at(1), caller, asio::detached);
    loops.run();
    EXPECT_EQ(result, 42);
    EXPECT_EQ(function_loop, 0u);
    EXPECT_EQ(resumed_loop, 1u);
    // `settings` here and the lambda's copy: the same two owners before, during and after.
    EXPECT_EQ(uses_inside, 2);
    EXPECT_EQ(uses_after, 2);
}

// A service of one loop that says when that loop's services are destroyed.
struct LoopServicesProbe : asio::execution_context::service {
    using key_type = LoopServicesProbe;
    inline static asio::execution_context::id id;
    explicit LoopServicesProbe(asio::execution_context& context) : service(context) {}
    ~LoopServicesProbe() override { *destroyed = true; }
    void shutdown() override {}
    std::shared_ptr<bool> destroyed = std::make_shared<bool>(false);
};

// An object of the main loop that a handler on another loop owns, and that needs the main loop's
// services when it goes (as a Process holds its output pipe, a main-loop descriptor).
struct MainLoopObject {
    std::shared_ptr<bool> services_destroyed;
    bool* destroyed_too_late;
    ~MainLoopObject() { *destroyed_too_late = *services_destroyed; }
};

// At exit, handlers still queued on loop 1 (the pool posts each loop a process to close its
// kept-alive connections) are destroyed before any loop's services: a ThreadSanitizer run saw
// the main loop's descriptor service freed first, then used by such a handler's Process.
TEST(EventLoops, HandlersLeftOnAnyLoopGoBeforeEveryLoopsServices) {
    bool destroyed_too_late = true;
    {
        EventLoops loops(2);
        auto services_destroyed = asio::use_service<LoopServicesProbe>(loops.main()).destroyed;
        auto object = std::shared_ptr<MainLoopObject>(
            new MainLoopObject{services_destroyed, &destroyed_too_late});
        asio::post(loops.at(1), [object = std::move(object)] {});  // never runs
    }
    EXPECT_FALSE(destroyed_too_late);
}

}  // namespace
}  // namespace passenger

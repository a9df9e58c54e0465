#include "common/event_loops.hpp"

#include <sched.h>

#include <thread>

namespace passenger {
namespace {

thread_local size_t current_loop = 0;

// asio's execution_context::shutdown() (destroy the pending handlers, keep the services) is
// protected; the io_context destructor runs it and then destroys the services, one context at
// a time. A pointer to it formed through a derived class may be called on any io_context.
struct ContextShutdown : asio::io_context {
    static void run(asio::io_context& loop) {
        void (asio::execution_context::*shutdown_of)() = &ContextShutdown::shutdown;
        (loop.*shutdown_of)();
    }
};

}  // namespace

EventLoops::EventLoops(size_t count) {
    // One loop: nothing is shared between threads, so the scheduler and the reactor take no
    // locks (with a plain hint of 1 they still take ~20 mutex pairs per proxied request).
    // Several: other threads post to a loop (the pool's answers, shutdown), so its scheduler and
    // its reactor's registrations lock; a socket's own operations never cross threads (each
    // loop owns its sockets), so per-descriptor I/O still takes no lock.
    const int hint = count == 1 ? ASIO_CONCURRENCY_HINT_UNSAFE : ASIO_CONCURRENCY_HINT_UNSAFE_IO;
    for (size_t i = 0; i < count; ++i) loops_.push_back(std::make_unique<asio::io_context>(hint));
}

// A handler still queued on one loop may own an object another loop's services serve: the pool
// posts each loop a Process to close its kept-alive connections, and a Process holds its output
// pipe, a main-loop descriptor. Destroying the loops one by one freed the main loop's services
// before loop 1's handlers (ThreadSanitizer: heap-use-after-free at exit). Every loop's handlers
// go first; the services after, when the contexts are destroyed.
EventLoops::~EventLoops() {
    for (auto& loop : loops_) ContextShutdown::run(*loop);
}

size_t EventLoops::current() {
    return current_loop;
}

void EventLoops::run() {
    std::vector<std::thread> threads;
    for (size_t i = 1; i < loops_.size(); ++i) {
        threads.emplace_back([this, i] {
            current_loop = i;
            // Idle until the main loop stops it, even with no connection to serve.
            auto work = asio::make_work_guard(*loops_[i]);
            loops_[i]->run();
        });
    }
    current_loop = 0;
    auto work = asio::make_work_guard(*loops_.front());
    loops_.front()->run();
    stop();
    for (auto& thread : threads) thread.join();
}

void EventLoops::stop() {
    for (auto& loop : loops_) loop->stop();
}

size_t available_cpus() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
    const int count = CPU_COUNT(&set);
    return count > 0 ? static_cast<size_t>(count) : 1;
}

}  // namespace passenger

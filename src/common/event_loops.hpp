// The core's event loops: one io_context per thread, each owning the connections it serves (their
// sockets, timers and kept-alive app connections). Loop 0 is the main loop: it runs on the thread
// that calls run() and also owns everything shared (the pool, the spawner, the admin socket,
// signals, the acceptors). Other loops reach it only by posting to it.
#pragma once

#include <asio/io_context.hpp>

#include <cstddef>
#include <memory>
#include <vector>

namespace passenger {

class EventLoops {
  public:
    // `count` >= 1. One loop is exactly the single-threaded core: no locking in Asio at all.
    explicit EventLoops(size_t count);
    EventLoops(const EventLoops&) = delete;
    EventLoops& operator=(const EventLoops&) = delete;
    ~EventLoops();

    size_t size() const { return loops_.size(); }
    asio::io_context& main() { return *loops_.front(); }
    asio::io_context& at(size_t index) { return *loops_[index]; }

    // The loop whose thread calls this: 0 on the main thread (and on any thread that runs none).
    static size_t current();
    // Whether the caller may touch what the main loop owns without posting to it.
    bool on_main_loop() const { return loops_.size() == 1 || current() == 0; }

    // Runs loop 0 on this thread and the others on threads of their own; returns once all of them
    // stopped (stop()).
    void run();
    void stop();

  private:
    std::vector<std::unique_ptr<asio::io_context>> loops_;
};

// --core-threads' default: the CPUs this process may run on (sched_getaffinity), at least 1.
size_t available_cpus();

}  // namespace passenger

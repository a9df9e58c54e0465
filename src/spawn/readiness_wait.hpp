// What the spawner sleeps on between attempts to connect to a starting app: a timer that the
// events worth a new attempt cut short (the app's socket file appearing, the app exiting).
// Without them the spawner would notice only on its next polling round, up to a whole interval
// after the app became ready (at 20 ms intervals, a third of Node's own start time).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace passenger::spawn {

class ReadinessWait {
  public:
    explicit ReadinessWait(asio::io_context& io) : timer_(io) {}
    ReadinessWait(const ReadinessWait&) = delete;
    ReadinessWait& operator=(const ReadinessWait&) = delete;

    // Cuts the current sleep short, or the next one if nobody sleeps right now.
    void wake();

    // Sleeps up to `duration`; true if woken before it ran out.
    asio::awaitable<bool> sleep(std::chrono::milliseconds duration);

  private:
    asio::steady_timer timer_;
    bool woken_ = false;
};

}  // namespace passenger::spawn

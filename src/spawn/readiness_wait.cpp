#include "spawn/readiness_wait.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <utility>

namespace passenger::spawn {

void ReadinessWait::wake() {
    woken_ = true;
    timer_.cancel();
}

asio::awaitable<bool> ReadinessWait::sleep(std::chrono::milliseconds duration) {
    if (std::exchange(woken_, false)) co_return true;
    timer_.expires_after(duration);
    asio::error_code ignored;  // operation_aborted is how wake() ends the sleep
    co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return std::exchange(woken_, false);
}

}  // namespace passenger::spawn

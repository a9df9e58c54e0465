// --max-request-time: once armed, closes the app connection when the request runs too long, so
// whatever the proxy is waiting for on it fails at once.
#pragma once

#include "spawn/app_endpoint.hpp"

#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace passenger::proxy {

class RequestDeadline {
  public:
    RequestDeadline(asio::any_io_executor executor, int seconds)
        : timer_(executor), seconds_(seconds) {}
    RequestDeadline(const RequestDeadline&) = delete;
    RequestDeadline& operator=(const RequestDeadline&) = delete;
    ~RequestDeadline() { disarm(); }

    void arm(spawn::AppSocket& app) {
        if (seconds_ <= 0) return;
        disarm();
        state_ = std::make_shared<State>();
        timer_.expires_after(std::chrono::seconds(seconds_));
        timer_.async_wait([state = state_, &app](const asio::error_code& error) {
            if (error || state->disarmed) return;
            state->expired = true;
            asio::error_code ignored;
            app.close(ignored);
        });
    }
    void disarm() {
        if (state_) state_->disarmed = true;
        timer_.cancel();
    }
    bool expired() const { return state_ && state_->expired; }

  private:
    struct State {
        bool disarmed = false;
        bool expired = false;
    };
    asio::steady_timer timer_;
    int seconds_;
    std::shared_ptr<State> state_;
};

}  // namespace passenger::proxy

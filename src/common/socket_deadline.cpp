#include "common/socket_deadline.hpp"

#include <algorithm>

namespace passenger {

SocketDeadline::State::State(const asio::any_io_executor& executor, void* socket, Cancel cancel,
                             Clock::duration granularity)
    : timer(executor),
      socket(socket),
      cancel(cancel),
      granularity(std::max(granularity, Clock::duration(1))) {}

SocketDeadline::~SocketDeadline() {
    state_->socket = nullptr;
    state_->deadline = Clock::time_point::max();
    state_->timer.cancel();
}

void SocketDeadline::expires_after(Clock::duration timeout) {
    State& state = *state_;
    state.expired = false;
    if (timeout <= Clock::duration::zero()) {
        state.deadline = Clock::time_point::max();
        return;
    }
    Clock::time_point now = Clock::now();
    state.deadline = now + timeout;
    // A pending wait that fires no later than the new deadline will notice it; only a missing
    // wait, or one due after the deadline (a timeout shorter than the granularity), needs arming.
    if (state.armed == Clock::time_point::max() || state.deadline < state.armed) arm(state_, now);
}

void SocketDeadline::disarm() {
    state_->deadline = Clock::time_point::max();
}

void SocketDeadline::arm(const std::shared_ptr<State>& state, Clock::time_point now) {
    state->armed = std::min(state->deadline, now + state->granularity);
    unsigned generation = ++state->generation;
    state->timer.expires_at(state->armed);  // a superseded wait completes, ignored by generation
    state->timer.async_wait(
        [state, generation](const asio::error_code&) { on_timer(state, generation); });
}

void SocketDeadline::on_timer(const std::shared_ptr<State>& state, unsigned generation) {
    if (generation != state->generation) return;
    state->armed = Clock::time_point::max();
    if (state->socket == nullptr || state->deadline == Clock::time_point::max()) return;
    Clock::time_point now = Clock::now();
    if (now < state->deadline) {
        arm(state, now);
        return;
    }
    state->deadline = Clock::time_point::max();
    state->expired = true;
    state->cancel(state->socket);
}

}  // namespace passenger

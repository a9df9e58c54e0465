// A deadline for the operations on one socket, watched by one timer per connection (no threads):
// when it passes, every operation pending on the socket is cancelled (it completes with
// operation_aborted) and expired() turns true. The socket is anything with get_executor() and
// cancel(error_code&): a TCP socket, or an HTTP/2 stream's (http/http2_stream_socket.hpp). Setting
// a deadline is an assignment: the timer is armed at most `granularity` ahead and re-arms itself
// when it fires before the deadline, so a busy connection moving its deadline on every request
// costs no timer operation per request.
#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/error_code.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <memory>

namespace passenger {

class SocketDeadline {
  public:
    using Clock = std::chrono::steady_clock;

    // `granularity`: the shortest timeout this socket will be given (how often its timer may
    // fire while the connection is busy).
    template <typename Socket>
    SocketDeadline(Socket& socket, Clock::duration granularity)
        : state_(std::make_shared<State>(socket.get_executor(), &socket, &cancel_socket<Socket>,
                                         granularity)) {}
    SocketDeadline(const SocketDeadline&) = delete;
    SocketDeadline& operator=(const SocketDeadline&) = delete;
    ~SocketDeadline();

    // Cancels the socket's operations `timeout` from now; a zero timeout means no deadline.
    // Clears expired().
    void expires_after(Clock::duration timeout);
    // No deadline until the next expires_after().
    void disarm();
    // The last deadline passed (and the socket's operations were cancelled).
    bool expired() const { return state_->expired; }

  private:
    using Cancel = void (*)(void* socket);
    template <typename Socket>
    static void cancel_socket(void* socket) {
        asio::error_code ignored;
        static_cast<Socket*>(socket)->cancel(ignored);
    }
    struct State {
        State(const asio::any_io_executor& executor, void* socket, Cancel cancel,
              Clock::duration granularity);
        asio::steady_timer timer;
        void* socket;  // null once the owner is gone
        Cancel cancel;
        Clock::duration granularity;
        Clock::time_point deadline = Clock::time_point::max();
        Clock::time_point armed = Clock::time_point::max();  // the pending wait's expiry, if any
        unsigned generation = 0;                             // of the pending wait
        bool expired = false;
    };
    static void arm(const std::shared_ptr<State>& state, Clock::time_point now);
    static void on_timer(const std::shared_ptr<State>& state, unsigned generation);

    std::shared_ptr<State> state_;
};

}  // namespace passenger

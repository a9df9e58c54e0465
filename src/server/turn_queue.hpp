// Work that starts one item per turn of an event loop (one epoll_wait and the events it
// returned), the rest waiting in order. The server starts new TLS connections this way
// (server/README.md, TLS): a handshake's first step costs hundreds of microseconds, and starting
// every waiting one in the same turn made the requests of connections already past their
// handshakes wait behind all of them.
//
// One loop's: push() and take_all() only on the thread running `io`.
#pragma once

#include <asio/io_context.hpp>
#include <asio/post.hpp>

#include <deque>
#include <functional>
#include <utility>

namespace passenger::server {

template <typename Item>
class TurnQueue {
  public:
    TurnQueue(asio::io_context& io, std::function<void(Item)> start)
        : io_(io), start_(std::move(start)) {}
    TurnQueue(const TurnQueue&) = delete;
    TurnQueue& operator=(const TurnQueue&) = delete;

    // Starts `item` now when no item started in this turn, else in a later turn.
    void push(Item item) {
        waiting_.push_back(std::move(item));
        if (!turn_pending_) start_next();
    }

    // What has not started (at shutdown: the caller closes it).
    std::deque<Item> take_all() { return std::exchange(waiting_, {}); }
    size_t waiting() const { return waiting_.size(); }

  private:
    void start_next() {
        turn_pending_ = false;
        if (waiting_.empty()) return;
        Item item = std::move(waiting_.front());
        waiting_.pop_front();
        // Asio queues a handler posted now behind its reactor: it runs after the loop's next
        // epoll_wait, before the events that wait returned.
        turn_pending_ = true;
        asio::post(io_, [this] { start_next(); });
        start_(std::move(item));
    }

    asio::io_context& io_;
    std::function<void(Item)> start_;
    std::deque<Item> waiting_;
    bool turn_pending_ = false;
};

}  // namespace passenger::server

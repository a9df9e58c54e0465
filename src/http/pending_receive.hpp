// A receive that Asio holds on a plain socket (TCP, Unix) while nothing is there to read: the
// state shared between http::MessageReader and the receive's completion handler, which may run
// after the reader is gone (a connection that closed its socket with the receive pending).
//
// Why a receive and not a readiness wait: Asio registers a descriptor edge-triggered once; an
// async_wait re-arms it with an epoll_ctl each time it starts with nothing else pending, while a
// receive first tries the recv itself and, when nothing is there, waits on the registration
// without an epoll_ctl, its completion bringing the bytes.
#pragma once

#include <asio/associated_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/dispatch.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>

#include <array>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace passenger::http {
namespace detail {

// Enough for a usual response or request head (and a small body with it) in one read; the rest
// of a longer one is read at once into the reader's full buffer.
inline constexpr size_t wait_buffer_size = 1024;

// The wait buffers of app readers (MessageReader::receive_next_head()), held only while a
// response head is awaited (a long poll): 1 KiB each, not a 16 KiB read buffer. One list per
// thread.
inline std::vector<std::unique_ptr<char[]>>& spare_wait_buffers() {
    thread_local std::vector<std::unique_ptr<char[]>> spares;
    return spares;
}

inline std::unique_ptr<char[]> take_wait_buffer() {
    auto& spares = spare_wait_buffers();
    if (spares.empty()) return std::unique_ptr<char[]>(new char[wait_buffer_size]);
    std::unique_ptr<char[]> buffer = std::move(spares.back());
    spares.pop_back();
    return buffer;
}

inline void give_back_wait_buffer(std::unique_ptr<char[]>& buffer) {
    constexpr size_t max_spares = 16;  // as many as a busy loop's waits take between two turns
    auto& spares = spare_wait_buffers();
    if (buffer && spares.size() < max_spares) spares.push_back(std::move(buffer));
    buffer.reset();
}

}  // namespace detail

class PendingReceive : public std::enable_shared_from_this<PendingReceive> {
  public:
    // A reader keeps its PendingReceive from one request to the next (no allocation per
    // request), and makes a new one only while Asio still holds the old one (cancelled, its
    // completion not yet run).
    bool reusable() const { return !active_ && weak_from_this().use_count() == 1; }

    // Starts Asio's receive on `socket` into the wait buffer.
    template <typename Socket>
    void start(Socket& socket) {
        active_ = true;
        done_ = false;
        error_ = {};
        count_ = 0;
        socket.async_receive(
            asio::buffer(buffer_.data(), buffer_.size()),
            [self = shared_from_this()](const asio::error_code& error, size_t count) {
                self->complete(error, count);
            });
    }

    PendingReceive() = default;
    PendingReceive(const PendingReceive&) = delete;
    PendingReceive& operator=(const PendingReceive&) = delete;

    bool active() const { return active_; }  // started, and its result not taken yet
    bool done() const { return done_; }
    bool cancelled() const { return done_ && error_ == asio::error::operation_aborted; }
    // The bytes received (when done); none: the peer closed (error() clear or eof) or failed.
    std::string_view bytes() const { return {buffer_.data(), count_}; }
    asio::error_code error() const {
        return error_ == asio::error::eof ? asio::error_code{} : error_;
    }
    // Its result is taken (or dropped): it can start again.
    void taken() { active_ = false; }

    template <typename Executor>
    void on_peer_end(std::function<void()> hook, const Executor& executor) {
        on_peer_end_ = std::move(hook);
        if (!done_ || count_ > 0 || cancelled()) return;
        asio::post(executor, [self = shared_from_this()] { self->peer_ended(); });
    }
    void forget_peer_end() { on_peer_end_ = nullptr; }

    // Completes with the receive (its error: none for bytes or the end of the stream), for one
    // waiter at a time; call only while !done().
    template <typename Token>
    auto wait(Token&& token) {
        return asio::async_initiate<Token, void(asio::error_code)>(
            [this](auto handler) {
                waiter_ = std::make_unique<WaiterFor<decltype(handler)>>(std::move(handler));
            },
            token);
    }

  private:
    struct Waiter {
        virtual ~Waiter() = default;
        virtual void resume(const asio::error_code& error) = 0;
    };
    template <typename Handler>
    struct WaiterFor final : Waiter {
        explicit WaiterFor(Handler&& handler) : handler(std::move(handler)) {}
        void resume(const asio::error_code& error) override {
            auto executor = asio::get_associated_executor(handler);
            asio::dispatch(executor, [handler = std::move(handler), error]() mutable {
                std::move(handler)(error);
            });
        }
        Handler handler;
    };

    void complete(const asio::error_code& error, size_t count) {
        done_ = true;
        error_ = error;
        count_ = count;
        if (std::unique_ptr<Waiter> waiter = std::move(waiter_))
            return waiter->resume(this->error());
        if (count == 0 && !cancelled()) peer_ended();
    }

    void peer_ended() {
        std::function<void()> hook = std::move(on_peer_end_);
        on_peer_end_ = nullptr;
        if (hook) hook();
    }

    std::array<char, detail::wait_buffer_size> buffer_;
    bool active_ = false;
    bool done_ = false;
    asio::error_code error_;
    size_t count_ = 0;
    std::function<void()> on_peer_end_;
    std::unique_ptr<Waiter> waiter_;
};

}  // namespace passenger::http

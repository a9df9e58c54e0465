// An HTTP/2 stream as the byte stream the front end serves (server/connection.cpp, proxy/), in
// place of a socket pair per stream: reads take the stream's request as HTTP/1.1 text (its head,
// then its DATA as it arrives, the client's window given back as it is read); writes hand the
// HTTP/1.1 response to the session, which parses it into HEADERS and DATA; the client's
// RST_STREAM or the connection's end is the peer leaving. No descriptor and no syscall: waits are
// completed by the session's notifications. The session, its streams and their connections live
// on one event loop, so nothing here is locked.
//
// Http2StreamSocket offers what tls::TlsSocket does (asynchronous waits, reads and writes with any
// completion token, non-blocking read_some/write_some, receive_now, send_file_now, peek_peer), so
// ClientConnection, proxy/ and the tunnel serve it unchanged. It is a handle: moving it (into a
// WebSocket's tunnel) keeps the stream.
#pragma once

#include "common/peer_probe.hpp"

#include <sys/types.h>
#include <asio/any_io_executor.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/compose.hpp>
#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/socket_base.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace passenger::http {

// The session's side of one stream, as its socket sees it (server/http2_session.cpp).
class Http2StreamOwner {
  public:
    // Takes what it can of response bytes the connection code wrote; 0 when the stream's queue
    // is full (the writer then waits for Http2StreamChannel::notify_writable()).
    virtual size_t take_response(std::string_view bytes) = 0;
    // How many bytes take_response() would take now.
    virtual size_t response_room() const = 0;
    // The connection code ended its side (shut down or closed): the response is complete, or
    // cut short. Called once.
    virtual void end_response() = 0;
    // The connection code read `data_bytes` of the stream's DATA: the client may send more.
    virtual void request_consumed(size_t data_bytes) = 0;

  protected:
    ~Http2StreamOwner() = default;
};

// What the session and the stream's socket share.
class Http2StreamChannel {
  public:
    using Executor = asio::any_io_executor;

    // `request_head`: the request as an HTTP/1.1 head. `eof_at_end`: the request's end
    // (END_STREAM) reads as the end of the stream (a WebSocket's client half-closes so); else
    // reads wait past it until the stream closes: an h2 request's end says nothing about the
    // client leaving.
    Http2StreamChannel(Executor executor, Http2StreamOwner& owner, std::string request_head,
                       bool eof_at_end);
    Http2StreamChannel(const Http2StreamChannel&) = delete;
    Http2StreamChannel& operator=(const Http2StreamChannel&) = delete;
    ~Http2StreamChannel();

    // The session's side. DATA payload for the connection code (as chunks when `chunked`);
    // false when it closed its side already (the caller gives the window back itself).
    bool deliver(std::string_view data, bool chunked);
    // The request is complete (the last chunk follows when `chunked`).
    void end_request(bool chunked);
    // The stream's queue has room again.
    void notify_writable();
    // The client reset the stream, or the connection ended: the owner is forgotten, and the
    // connection code sees its client gone. Returns the DATA bytes delivered and not read (the
    // caller gives them back to the connection's window, which every stream shares).
    size_t peer_gone();

    // The socket's side.
    const Executor& executor() const { return executor_; }
    // Reads or writes what can be done now; would_block otherwise.
    size_t read_now(char* out, size_t size, asio::error_code& error);
    size_t write_now(const char* data, size_t size, asio::error_code& error);
    // sendfile(2)'s contract: -1 with errno EAGAIN when the queue is full.
    ssize_t send_file_now(int file_fd, off_t* offset, size_t count);
    PeerState peek_peer() const;
    // Completes at once (through the executor) when ready, else once the session notifies;
    // operation_aborted after cancel() or close().
    template <typename Handler>
    void wait(bool for_read, Handler handler) {
        if (closed_) return complete_later(std::move(handler), asio::error::bad_descriptor);
        if (for_read ? readable() : writable()) return complete_later(std::move(handler), {});
        (for_read ? read_waiters_ : write_waiters_)
            .push_back(std::make_unique<StoredWait<Handler>>(std::move(handler)));
    }
    void cancel();
    void shut_down_sending();
    void close();

  private:
    struct PendingWait {
        virtual ~PendingWait() = default;
        virtual void complete(const Executor& executor, asio::error_code error) = 0;
    };
    template <typename Handler>
    struct StoredWait final : PendingWait {
        explicit StoredWait(Handler h) : handler(std::move(h)) {}
        void complete(const Executor& executor, asio::error_code error) override {
            asio::post(executor, [handler = std::move(handler), error]() mutable {
                std::move(handler)(error);
            });
        }
        Handler handler;
    };
    template <typename Handler>
    void complete_later(Handler handler, asio::error_code error) {
        asio::post(executor_,
                   [handler = std::move(handler), error]() mutable { std::move(handler)(error); });
    }
    using Waits = std::vector<std::unique_ptr<PendingWait>>;
    void wake(Waits& waits, asio::error_code error);
    bool readable() const;
    bool writable() const;
    bool can_send() const { return owner_ != nullptr && !closed_ && !shut_down_; }

    Executor executor_;
    Http2StreamOwner* owner_;  // null once the stream is gone from the session
    std::string request_;      // HTTP/1.1 bytes not read yet, from request_begin_
    size_t request_begin_ = 0;
    size_t unread_data_ = 0;  // DATA payload delivered and not given back yet
    bool eof_at_end_;
    bool request_ended_ = false;
    bool gone_ = false;       // peer_gone()
    bool shut_down_ = false;  // the connection code ended its side
    bool closed_ = false;     // ... and closed it
    Waits read_waiters_;
    Waits write_waiters_;
};

// asio::socket_base: the wait and shutdown types and constants a socket has (Stream::wait_read).
class Http2StreamSocket : public asio::socket_base {
  public:
    using executor_type = asio::any_io_executor;

    explicit Http2StreamSocket(std::shared_ptr<Http2StreamChannel> channel)
        : channel_(std::move(channel)) {}
    Http2StreamSocket(Http2StreamSocket&&) noexcept = default;
    Http2StreamSocket& operator=(Http2StreamSocket&&) noexcept = default;

    executor_type get_executor() { return channel_->executor(); }

    template <typename Token>
    auto async_wait(wait_type wait, Token&& token) {
        return asio::async_initiate<Token, void(asio::error_code)>(
            [channel = channel_](auto handler, wait_type wait) {
                channel->wait(wait == wait_read, std::move(handler));
            },
            token, wait);
    }
    template <typename MutableBuffers, typename Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        asio::mutable_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return start(
            true,
            [buffer](Http2StreamChannel& channel, asio::error_code& error) {
                return channel.read_now(static_cast<char*>(buffer.data()), buffer.size(), error);
            },
            std::forward<Token>(token));
    }
    template <typename ConstBuffers, typename Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        asio::const_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return start(
            false,
            [buffer](Http2StreamChannel& channel, asio::error_code& error) {
                return channel.write_now(static_cast<const char*>(buffer.data()), buffer.size(),
                                         error);
            },
            std::forward<Token>(token));
    }

    // Without waiting: would_block when there is nothing to read or no room.
    template <typename MutableBuffers>
    size_t read_some(const MutableBuffers& buffers, asio::error_code& error) {
        asio::mutable_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return channel_->read_now(static_cast<char*>(buffer.data()), buffer.size(), error);
    }
    template <typename ConstBuffers>
    size_t write_some(const ConstBuffers& buffers, asio::error_code& error) {
        asio::const_buffer buffer = *asio::buffer_sequence_begin(buffers);
        return channel_->write_now(static_cast<const char*>(buffer.data()), buffer.size(), error);
    }

    // recv(2)'s contract without waiting: bytes, 0 at the end, or -1 with errno (EAGAIN).
    ssize_t receive_now(char* buffer, size_t size);
    ssize_t send_file_now(int file_fd, off_t* offset, size_t count) {
        return channel_->send_file_now(file_fd, offset, count);
    }
    PeerState peek_peer() const { return channel_->peek_peer(); }

    // Always non-blocking: there is no descriptor.
    bool non_blocking() const { return true; }
    void non_blocking(bool, asio::error_code& error) { error.clear(); }
    // Ends the pending waits (operation_aborted). A moved-from handle does nothing.
    void cancel(asio::error_code& error);
    // Sending (either way): the response ends (or is cut short).
    void shutdown(shutdown_type what, asio::error_code& error);
    void close(asio::error_code& error);

  private:
    // One asynchronous operation: `attempt` until it is done or fails, waiting for the session's
    // notification in between. Completes through the executor, never inside the initiating call.
    template <typename Attempt>
    struct Operation {
        Operation(std::shared_ptr<Http2StreamChannel> channel, bool reading, Attempt attempt)
            : channel(std::move(channel)), reading(reading), attempt(std::move(attempt)) {}

        std::shared_ptr<Http2StreamChannel> channel;
        bool reading;
        Attempt attempt;
        enum { starting, waiting, completing } state = starting;
        asio::error_code error;
        size_t transferred = 0;

        template <typename Self>
        void operator()(Self& self, asio::error_code wait_error = {}) {
            if (state == completing) return self.complete(error, transferred);
            if (wait_error) return self.complete(wait_error, size_t(0));
            transferred = attempt(*channel, error);
            if (error == asio::error::would_block) {
                state = waiting;
                auto& held = *channel;
                held.wait(reading, std::move(self));
                return;
            }
            if (state == starting) {
                state = completing;
                auto executor = channel->executor();
                return asio::post(executor, std::move(self));
            }
            self.complete(error, transferred);
        }
    };
    template <typename Attempt, typename Token>
    auto start(bool reading, Attempt attempt, Token&& token) {
        return asio::async_compose<Token, void(asio::error_code, size_t)>(
            Operation<Attempt>(channel_, reading, std::move(attempt)), token, channel_->executor());
    }

    std::shared_ptr<Http2StreamChannel> channel_;
};

}  // namespace passenger::http

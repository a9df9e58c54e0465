// Reads HTTP messages from a stream (a client's TCP socket or TLS stream, or an app's Unix socket)
// through a MessageParser, keeping bytes that belong to the next message in its buffer.
#pragma once

#include "http/message_parser.hpp"
#include "http/pending_receive.hpp"

#include <sys/socket.h>
#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>
#include <asio/error.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace passenger::http {
namespace detail {

// Read buffers of readers that hold none at the moment (between messages, or gone), reused so
// that neither an idle keep-alive connection nor a short-lived app connection costs an allocation.
// One list per thread: each event loop's readers take and give back on that loop only.
inline std::vector<std::unique_ptr<char[]>>& spare_read_buffers() {
    thread_local std::vector<std::unique_ptr<char[]>> spares;
    return spares;
}

}  // namespace detail

// Frees this thread's spare read buffers (after a burst of connections went idle, when the memory
// is better given back than kept for the next burst).
inline void release_spare_read_buffers() {
    std::vector<std::unique_ptr<char[]>>().swap(detail::spare_read_buffers());
    std::vector<std::unique_ptr<char[]>>().swap(detail::spare_wait_buffers());  // (pending_receive)
}

enum class ReadStatus {
    ok,           // head or body bytes are available (or the message completed)
    closed,       // the peer closed the connection before sending anything of this message
    truncated,    // the peer closed or failed in the middle of a message
    parse_error,  // the bytes are not valid HTTP; parser().error_reason() says why
    too_large,    // the head exceeds the configured limit
};

template <typename Stream>
class MessageReader {
  public:
    static constexpr size_t buffer_size = 16 * 1024;
    // Plain sockets (no receive_now of their own: TCP, Unix) can wait with Asio's receive.
    static constexpr bool can_wait_by_receiving =
        !requires(Stream & stream, char* buffer, size_t size) {
        stream.receive_now(buffer, size);
    };

    MessageReader(Stream& stream, MessageParser::Kind kind, size_t max_head_size)
        : stream_(stream), parser_(kind), max_head_size_(max_head_size) {}
    MessageReader(const MessageReader&) = delete;
    MessageReader& operator=(const MessageReader&) = delete;
    ~MessageReader() {
        release_buffer();
        if (pending_) pending_->forget_peer_end();
    }

    Stream& stream() { return stream_; }
    MessageParser& parser() { return parser_; }
    const MessageHead& head() const { return parser_.head(); }
    asio::error_code last_error() const { return error_; }
    bool has_buffered_bytes() const { return begin_ < end_; }

    // Reads until the head of the next message is complete.
    asio::awaitable<ReadStatus> read_head() {
        return read_head([](size_t) {});
    }

    // The same, calling `before_read(head_bytes_so_far)` before each read from the stream (the
    // front end arms its timeouts there: no call at all when the head was already buffered).
    template <typename BeforeRead>
    asio::awaitable<ReadStatus> read_head(BeforeRead before_read) {
        for (;;) {
            if (std::optional<ReadStatus> status = read_buffered_head()) co_return *status;
            before_read(head_bytes_);
            // The read and the wait are here rather than in a coroutine of their own: one frame
            // less per message that needs a wait (an app computing its response).
            Received received = Received::nothing;
            if constexpr (can_wait_by_receiving) {
                if (receive_head_) {
                    receive_head_ = false;
                    if (on_wait_) on_wait_();
                    wait_buffer_ = detail::take_wait_buffer();
                    begin_ = end_ = 0;  // nothing is buffered when a reader waits
                    release_buffer();
                    const size_t count = co_await stream_.async_receive(
                        asio::buffer(wait_buffer_.get(), detail::wait_buffer_size),
                        asio::redirect_error(asio::use_awaitable, error_));
                    received = took_while_waiting(wait_buffer_.get(), count);
                    detail::give_back_wait_buffer(wait_buffer_);
                    if (received == Received::bytes) continue;
                    co_return head_bytes_ == 0 ? ReadStatus::closed : ReadStatus::truncated;
                }
            }
            received = try_receive();
            if (received == Received::nothing) {
                if (on_wait_) on_wait_();
                co_await until_readable();
                if (!error_) continue;
            }
            if (received != Received::bytes)
                co_return head_bytes_ == 0 ? ReadStatus::closed : ReadStatus::truncated;
        }
    }

    // The head from what is buffered, without reading and without a coroutine: its status, or
    // nullopt when it needs more bytes (read_head() goes on from there). A head that arrived
    // whole in one read (the usual case) is parsed here.
    std::optional<ReadStatus> read_buffered_head() {
        if (begin_ == end_) return std::nullopt;
        std::string no_body;
        auto progress = parser_.feed(buffered(), &no_body);
        begin_ += progress.consumed;
        head_bytes_ += progress.consumed;
        if (progress.event == MessageParser::Event::error) return ReadStatus::parse_error;
        if (head_bytes_ > max_head_size_) return ReadStatus::too_large;
        if (!parser_.head_complete()) return std::nullopt;
        // Nothing more arrived with the head (the usual case): the buffer goes back to the spares
        // while the message is answered, and a body read takes one again.
        if (begin_ == end_) release_buffer();
        return ReadStatus::ok;
    }

    // Appends the next available body bytes to `out`; returns once some were appended or the
    // message is complete (parser().message_complete()).
    asio::awaitable<ReadStatus> read_body(std::string& out) {
        for (;;) {
            if (parser_.message_complete()) co_return ReadStatus::ok;
            // Fed even when empty: right after the head, llhttp needs one more call to notice
            // that a message without a body is already complete.
            {
                size_t before = out.size();
                auto progress = parser_.feed(buffered(), &out);
                begin_ += progress.consumed;
                if (progress.event == MessageParser::Event::error)
                    co_return ReadStatus::parse_error;
                if (out.size() > before || parser_.message_complete()) co_return ReadStatus::ok;
            }
            if (!co_await fill()) {
                if (parser_.body_until_eof() && !error_ &&
                    parser_.finish() == MessageParser::Event::message_complete)
                    co_return ReadStatus::ok;
                co_return ReadStatus::truncated;
            }
        }
    }

    // Appends the body bytes already buffered to `out` without reading from the stream; ok when
    // they parsed (the message may or may not be complete).
    ReadStatus read_buffered_body(std::string& out) {
        if (parser_.message_complete()) return ReadStatus::ok;
        auto progress = parser_.feed(buffered(), &out);
        begin_ += progress.consumed;
        return progress.event == MessageParser::Event::error ? ReadStatus::parse_error
                                                             : ReadStatus::ok;
    }

    // Waits until the stream has bytes for the next message, holding no read buffer meanwhile
    // (an idle keep-alive connection costs no 16 KiB). Bytes already there are read at once, so
    // this makes no more syscalls than read_head() alone. False on EOF, error or cancellation.
    asio::awaitable<bool> wait_readable() {
        return wait_readable([] {});
    }

    // The same, calling `on_idle()` when nothing is there yet, just before the wait: the caller
    // frees what it keeps for the next message there (nothing is freed while requests come
    // back to back). The front end does this itself with readable_now() and until_readable(),
    // which need no coroutine of their own when bytes are there.
    template <typename OnIdle>
    asio::awaitable<bool> wait_readable(OnIdle on_idle) {
        if (std::optional<bool> readable = readable_now()) co_return *readable;
        on_idle();
        co_await until_readable();
        co_return !error_;
    }

    // Without waiting and without a coroutine: true when bytes for the next message are there
    // (read now if need be), false on EOF or error, nullopt when nothing arrived yet. Then
    // `co_await until_readable()` waits (the caller frees what it keeps meanwhile first).
    std::optional<bool> readable_now() {
        if (begin_ < end_) return true;
        Received received = try_receive();
        if (received == Received::nothing) return std::nullopt;
        return received == Received::bytes;
    }

    // Waits for readability, holding no buffer; last_error() then says whether the wait failed
    // (cancelled by a deadline, say). Asio's own operation: no coroutine frame of ours. With a
    // receive pending (watch_by_receiving()), waits for it instead: no syscall; the next read
    // (readable_now(), read_head()) takes its bytes.
    asio::awaitable<void> until_readable() {
        if constexpr (can_wait_by_receiving) {
            if (pending_ && pending_->active() && !pending_->done())
                return pending_->wait(asio::redirect_error(asio::use_awaitable, error_));
        }
        return stream_.async_wait(Stream::wait_read,
                                  asio::redirect_error(asio::use_awaitable, error_));
    }

    // Leaves a receive pending on the socket (a plain one, with nothing buffered): while an app
    // prepares the response it watches the client, and afterwards it is the connection's wait
    // for the next request, so one speculative recv replaces the watch's epoll_ctl and the idle
    // wait's failed recv. Its bytes are the start of the next message (a pipelined request is
    // answered in order); until they are taken, every read goes through it. `on_peer_end`
    // runs if the peer closes or fails meanwhile (at once, posted, if it did already), until
    // stop_watching(). A receive that was cancelled (a wait of another's on the socket ended
    // with cancel()) is started again.
    void watch_by_receiving(std::function<void()> on_peer_end) requires can_wait_by_receiving {
        if (begin_ < end_) return;
        if (pending_ && pending_->cancelled()) pending_->taken();
        if (!pending_ || !pending_->active()) {
            if (!pending_ || !pending_->reusable()) pending_ = std::make_shared<PendingReceive>();
            pending_->start(stream_);
        }
        pending_->on_peer_end(std::move(on_peer_end), stream_.get_executor());
    }

    void stop_watching() {
        if (pending_) pending_->forget_peer_end();
    }

    // Reads exactly `out.size()` bytes that come before the first message and are not HTTP (the
    // nginx module's preamble), from what is buffered first, then from the stream; the bytes past
    // them stay buffered for read_head(). False on EOF or error.
    asio::awaitable<bool> read_raw(std::span<char> out) {
        size_t copied = 0;
        for (;;) {
            size_t count = std::min(out.size() - copied, end_ - begin_);
            if (count > 0) std::memcpy(out.data() + copied, buffer_.get() + begin_, count);
            begin_ += count;
            copied += count;
            if (copied == out.size()) co_return true;
            if (!co_await fill()) co_return false;
        }
    }

    // The next read_head() that starts with nothing buffered reads by waiting: Asio's receive
    // into a small wait buffer (taken from the thread's spares for the wait) instead of a recv
    // and then a readiness wait. An async_wait re-arms the descriptor (an epoll_ctl) each time;
    // a receive tries a recv at once and, when nothing is there, waits on the edge-triggered
    // registration without one, its completion bringing the bytes: a response the app has not
    // sent yet costs a failed recv (none with cmake/asio_edge.cmake's Asio, which knows the last
    // read emptied the socket), not a recv and an epoll_ctl. Only for a head right after a
    // request went (on_wait's hook runs before it, whether or not it then waits): bodies and
    // later reads go on reading into the full buffer.
    void receive_next_head() requires can_wait_by_receiving { receive_head_ = true; }

    // Called each time a read for the message found nothing, just before the reader waits for
    // the stream (forward() watches the client only from then on, not for a response that was
    // there at once).
    void on_wait(std::function<void()> hook) { on_wait_ = std::move(hook); }

    // Forgets the completed message; buffered bytes of the next one are kept.
    void next_message() {
        parser_.reset();
        head_bytes_ = 0;
    }

    // Hands over the bytes read past the current message and forgets them, holding no read
    // buffer afterwards: after an upgrade, they are the new protocol's.
    std::string take_buffered() {
        std::string bytes(buffered());
        begin_ = end_ = 0;
        release_buffer();
        return bytes;
    }

  private:
    std::string_view buffered() const {
        return begin_ < end_ ? std::string_view(buffer_.get() + begin_, end_ - begin_)
                             : std::string_view();
    }

    void acquire_buffer() {
        if (buffer_) return;
        auto& spares = detail::spare_read_buffers();
        if (spares.empty()) {
            buffer_.reset(new char[buffer_size]);
        } else {
            buffer_ = std::move(spares.back());
            spares.pop_back();
        }
    }

    void release_buffer() {
        // Enough for the readers between two reads of a busy loop; more would only keep the
        // memory of a past burst of connections (malloc takes a freed buffer back at once).
        constexpr size_t max_spares = 16;
        auto& spares = detail::spare_read_buffers();
        if (buffer_ && spares.size() < max_spares) spares.push_back(std::move(buffer_));
        buffer_.reset();
    }

    enum class Received { bytes, nothing, end };

    // One read without blocking into the (empty) buffer. When the stream has nothing yet, the
    // buffer goes back to the spares: a reader holds none while it waits (for a client's next
    // request, an app's response, a slow body). The read found the socket drained, so the next
    // bytes raise a new readiness event for a wait that starts now.
    Received try_receive() {
        if constexpr (can_wait_by_receiving) {
            if (pending_ && pending_->active()) {
                if (!pending_->done()) return Received::nothing;
                if (!pending_->cancelled()) return take_pending();
                pending_->taken();  // (cancelled: its wait was answered, a read goes on here)
            }
        }
        begin_ = end_ = 0;
        acquire_buffer();
        ssize_t count;
        do {
            count = receive_now(buffer_.get(), buffer_size);
        } while (count < 0 && errno == EINTR);
        if (count > 0) {
            end_ = static_cast<size_t>(count);
            return Received::bytes;
        }
        const int error_number = count < 0 ? errno : 0;
        release_buffer();
        if (error_number == EAGAIN || error_number == EWOULDBLOCK) return Received::nothing;
        error_ = count == 0 ? asio::error_code{}
                            : asio::error_code(error_number, asio::error::get_system_category());
        return Received::end;
    }

    // A completed watch_by_receiving(): its bytes become the buffer's.
    Received take_pending() {
        pending_->taken();
        begin_ = end_ = 0;
        error_ = pending_->error();
        return took_while_waiting(pending_->bytes().data(), pending_->bytes().size());
    }

    // After a receive into a wait buffer (nothing was buffered): its `count` bytes go into the
    // full buffer, with what more is there when they filled the wait buffer. `end`: the stream
    // ended (last_error() clear, as after a read of 0 bytes) or failed (last_error()).
    Received took_while_waiting(const char* wait_buffer, size_t count) {
        if (error_ == asio::error::eof) error_ = {};
        if (count == 0) return Received::end;
        acquire_buffer();
        std::memcpy(buffer_.get(), wait_buffer, count);
        end_ = count;
        if (count == detail::wait_buffer_size) {
            ssize_t more;
            do {
                more = receive_now(buffer_.get() + count, buffer_size - count);
            } while (more < 0 && errno == EINTR);
            if (more > 0) end_ += static_cast<size_t>(more);
        }
        return Received::bytes;
    }

    // recv(2) without waiting; a TLS stream decrypts (tls::TlsSocket::receive_now).
    ssize_t receive_now(char* buffer, size_t size) {
        if constexpr (requires { stream_.receive_now(buffer, size); }) {
            return stream_.receive_now(buffer, size);
        } else {
            return ::recv(stream_.native_handle(), buffer, size, MSG_DONTWAIT);
        }
    }

    // Reads more bytes into the (empty) buffer, waiting for readability without a buffer; false
    // on EOF or error (a wait cancelled by the deadline included).
    asio::awaitable<bool> fill() {
        for (;;) {
            Received received = try_receive();
            if (received != Received::nothing) co_return received == Received::bytes;
            if (on_wait_) on_wait_();
            co_await until_readable();
            if (error_) co_return false;
        }
    }

    Stream& stream_;
    MessageParser parser_;
    std::unique_ptr<char[]> buffer_;  // null while idle
    size_t begin_ = 0;
    size_t end_ = 0;
    size_t head_bytes_ = 0;  // of the current message's head, so far
    size_t max_head_size_;
    asio::error_code error_;
    std::function<void()> on_wait_;
    bool receive_head_ = false;                // receive_next_head()
    std::unique_ptr<char[]> wait_buffer_;      // while read_head() receives (receive_next_head())
    std::shared_ptr<PendingReceive> pending_;  // watch_by_receiving()'s, kept for the next
};

}  // namespace passenger::http

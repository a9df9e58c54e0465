// Writes a response to the client while the app's side keeps producing it: bytes are queued in a
// BodyBuffer (memory, then a temp file) and written as fast as the client takes them, so a slow
// client never slows the app's side down, and a fast one gets every byte as soon as it exists.
// One writer per client connection; at most one write is in flight. Each write must make progress
// within the send timeout (the connection's SocketDeadline), or the client counts as failed.
//
// When the buffer cannot take bytes (the data buffer dir is full, or unusable), nothing is lost
// or cut off: the bytes wait in memory (`held_`) until the buffer has drained, the failure is
// logged once per response, and the producer is expected to wait (wait_until_buffered()) before
// it adds more, so the app is read only as fast as the client takes the response.
#pragma once

#include "common/socket_deadline.hpp"
#include "http/body_buffer.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <string>

namespace passenger::proxy {

// `Stream`: asio::ip::tcp::socket, or tls::TlsSocket for HTTPS (instantiated for both).
template <typename Stream>
class ClientWriter {
  public:
    ClientWriter(Stream& socket, const http::BodyBufferSettings& buffer_settings,
                 SocketDeadline& deadline, std::chrono::seconds send_timeout);
    ClientWriter(const ClientWriter&) = delete;
    ClientWriter& operator=(const ClientWriter&) = delete;

    // Queues `data` (taken by swapping when nothing else is queued) without starting a write: for
    // a response that is complete anyway, written by finish().
    void queue(std::string& data);
    // Queues `data` and starts writing if no write is in flight. False once the client failed.
    bool write(std::string& data);
    // Waits until everything queued reached the client; false when the client failed (it timed
    // out, closed, or the buffer could not take the bytes). The writer is then idle.
    asio::awaitable<bool> finish();
    // finish() without a coroutine when nothing needs a wait: a response complete in memory that
    // the socket takes at once (the usual case; TCP and TLS, not an h2 stream). Returns
    // finish()'s result then; nullopt when the caller must co_await finish() (which goes on
    // with what is left).
    std::optional<bool> finish_now();
    // Writes what is queued, then `length` bytes of the file `fd` from `offset` with sendfile(2)
    // (a static file), each step within the send timeout. False when the client failed.
    asio::awaitable<bool> send_file(int fd, uint64_t offset, uint64_t length);
    // Waits until fewer than `bytes` bytes are queued, or the client failed.
    asio::awaitable<void> wait_until_below(uint64_t bytes);
    // True while bytes the buffer could not take wait in memory; wait_until_buffered() waits
    // until they went into the buffer (or the client failed).
    bool holding_unbuffered() const { return !held_.empty(); }
    asio::awaitable<void> wait_until_buffered();

    bool failed() const { return failed_; }
    // Bytes handed to the writer since it was made (responses' heads and bodies), for the
    // access log and the metrics.
    uint64_t bytes_accepted() const { return bytes_accepted_; }
    uint64_t queued() const { return buffer_.size() + held_.size() + in_flight_.size(); }
    // Called once when the client fails while a response is being relayed (the proxy stops
    // reading the app then). Cleared by finish().
    void on_failure(std::function<void()> callback) { on_failure_ = std::move(callback); }
    // Forgets a failure and any queued bytes; for the next response on a new connection state.
    void reset();
    // Frees the memory an idle writer keeps for the next response (the connection waits now).
    void release_memory();

  private:
    void hold(std::string& data, const std::error_code& error);
    void kick();
    void write_memory(size_t offset);
    size_t write_now(const char* data, size_t size, asio::error_code& error);
    void send_file_part();
    void on_write_done(const asio::error_code& error);
    bool finished();
    void fail();
    void notify();
    asio::awaitable<void> wait();

    Stream& socket_;
    http::BodyBuffer buffer_;
    SocketDeadline& deadline_;
    std::chrono::seconds send_timeout_;
    std::string in_flight_;  // the bytes of the write in progress (memory part taken over)
    std::string held_;       // after the buffer's bytes: what it could not take (a full disk)
    bool hold_logged_ = false;
    bool writing_ = false;
    bool failed_ = false;
    uint64_t bytes_accepted_ = 0;
    bool waiting_ = false;
    asio::steady_timer wake_;  // a waiting coroutine sleeps on it; notify() cancels it
    std::function<void()> on_failure_;
};

}  // namespace passenger::proxy

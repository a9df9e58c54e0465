#include "proxy/client_writer.hpp"

#include "common/log.hpp"
#include "common/thread_spares.hpp"
#include "http/http2_stream_socket.hpp"
#include "proxy/file_sender.hpp"
#include "tls/tls_socket.hpp"

#include <sys/socket.h>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <cerrno>
#include <type_traits>

namespace passenger::proxy {

template <typename Stream>
ClientWriter<Stream>::ClientWriter(Stream& socket, const http::BodyBufferSettings& buffer_settings,
                                   SocketDeadline& deadline, std::chrono::seconds send_timeout)
    : socket_(socket),
      buffer_(buffer_settings),
      deadline_(deadline),
      send_timeout_(send_timeout),
      wake_(socket.get_executor()) {}

template <typename Stream>
void ClientWriter<Stream>::queue(std::string& data) {
    if (failed_) return data.clear();
    bytes_accepted_ += data.size();
    if (!held_.empty()) {
        held_.append(data);  // behind what waits already
        data.clear();
    } else if (std::error_code error = buffer_.take(data)) {
        hold(data, error);
    }
}

template <typename Stream>
void ClientWriter<Stream>::hold(std::string& data, const std::error_code& error) {
    if (!hold_logged_) {
        hold_logged_ = true;
        log::warn(
            "Cannot buffer a response in {} ({}); it is read from the app only as fast as "
            "the client takes it",
            buffer_.directory(), error.message());
    }
    held_.swap(data);
    data.clear();
}

template <typename Stream>
bool ClientWriter<Stream>::write(std::string& data) {
    queue(data);
    kick();
    return !failed_;
}

template <typename Stream>
void ClientWriter<Stream>::kick() {
    if (writing_ || failed_) return;
    if (buffer_.empty() && !held_.empty()) buffer_.take(held_);  // a swap: cannot fail
    if (!buffer_.memory().empty()) {
        buffer_.take_memory(in_flight_);
        writing_ = true;
        write_memory(0);
    } else if (buffer_.file_size() > 0) {
        writing_ = true;
        deadline_.expires_after(send_timeout_);
        send_file_part();
    } else {
        deadline_.disarm();
    }
}

// Each partial write is progress: the send timeout runs from the last one, as nginx's does.
template <typename Stream>
void ClientWriter<Stream>::write_memory(size_t offset) {
    deadline_.expires_after(send_timeout_);
    socket_.async_write_some(asio::buffer(in_flight_.data() + offset, in_flight_.size() - offset),
                             [this, offset](const asio::error_code& error, size_t written) {
                                 if (!error && !failed_ && offset + written < in_flight_.size()) {
                                     write_memory(offset + written);
                                     return;
                                 }
                                 in_flight_.clear();
                                 on_write_done(error);
                             });
}

template <typename Stream>
void ClientWriter<Stream>::send_file_part() {
    if (failed_ || deadline_.expired()) return on_write_done(asio::error::operation_aborted);
    asio::error_code error;
    make_non_blocking(socket_, error);
    if (error) return on_write_done(error);
    FileSpan file{buffer_.file_fd(), buffer_.file_offset(), buffer_.file_size()};
    FileSending sending = send_file_some(socket_, file, error);
    if (file.length < buffer_.file_size()) {
        buffer_.consume_file(buffer_.file_size() - file.length);
        deadline_.expires_after(send_timeout_);  // progress
    }
    switch (sending) {
        case FileSending::yielding:
            asio::post(socket_.get_executor(), [this] { send_file_part(); });
            return;
        case FileSending::would_block:
            socket_.async_wait(Stream::wait_write, [this](const asio::error_code& wait_error) {
                if (wait_error) return on_write_done(wait_error);
                send_file_part();
            });
            return;
        case FileSending::done:
        case FileSending::failed:
            return on_write_done(error);
    }
}

template <typename Stream>
void ClientWriter<Stream>::on_write_done(const asio::error_code& error) {
    writing_ = false;
    if (error) {
        fail();
    } else {
        kick();
    }
    notify();
}

template <typename Stream>
void ClientWriter<Stream>::fail() {
    if (failed_) return;
    failed_ = true;
    deadline_.disarm();
    held_.clear();
    if (!writing_) buffer_.clear();  // else an in-flight sendfile still reads the file
    if (on_failure_) {
        auto callback = std::move(on_failure_);
        on_failure_ = nullptr;
        callback();
    }
    notify();
}

template <typename Stream>
void ClientWriter<Stream>::notify() {
    if (waiting_) wake_.cancel();
}

template <typename Stream>
asio::awaitable<void> ClientWriter<Stream>::wait() {
    waiting_ = true;
    wake_.expires_at(asio::steady_timer::time_point::max());
    asio::error_code ignored;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    waiting_ = false;
}

template <typename Stream>
asio::awaitable<bool> ClientWriter<Stream>::finish() {
    // The common case, a response that was complete before any of it was written: write it
    // here, without the write-in-the-background machinery.
    if (!failed_ && !writing_ && buffer_.file_size() == 0 && !buffer_.memory().empty()) {
        buffer_.take_memory(in_flight_);
        for (size_t offset = 0; offset < in_flight_.size();) {
            deadline_.expires_after(send_timeout_);
            asio::error_code error;
            offset += co_await socket_.async_write_some(
                asio::buffer(in_flight_.data() + offset, in_flight_.size() - offset),
                asio::redirect_error(asio::use_awaitable, error));
            if (error) {
                fail();
                break;
            }
        }
        in_flight_.clear();
    }
    kick();
    while (writing_ || (!failed_ && (!buffer_.empty() || !held_.empty()))) co_await wait();
    co_return finished();
}

// The writer is idle: it forgets the response.
template <typename Stream>
bool ClientWriter<Stream>::finished() {
    deadline_.disarm();
    on_failure_ = nullptr;
    buffer_.clear();
    hold_logged_ = false;
    return !failed_;
}

// Up to `size` bytes to the client without waiting: would_block when it can take none now.
template <typename Stream>
size_t ClientWriter<Stream>::write_now(const char* data, size_t size, asio::error_code& error) {
    if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>) {
        // The socket is in asio's non-blocking mode, not the user's: its write_some would poll.
        for (;;) {
            ssize_t sent = ::send(socket_.native_handle(), data, size, MSG_DONTWAIT | MSG_NOSIGNAL);
            if (sent >= 0) {
                error = {};
                return static_cast<size_t>(sent);
            }
            if (errno == EINTR) continue;
            error = errno == EAGAIN || errno == EWOULDBLOCK
                        ? asio::error_code(asio::error::would_block)
                        : asio::error_code(errno, asio::error::get_system_category());
            return 0;
        }
    } else {
        // TlsSocket: SSL_write on the non-blocking descriptor; a write it could not finish is
        // retried by write_memory() with the same bytes, as OpenSSL requires.
        return socket_.write_some(asio::buffer(data, size), error);
    }
}

// A TLS write that completes at once (the usual case) would otherwise complete through the
// event loop's queue (an asynchronous operation never calls its handler inside the initiating
// call), and under load that queue holds other clients' handshakes: the response would wait
// behind them (bench/RESULTS.md, "TLS: a request behind the queue").
template <typename Stream>
std::optional<bool> ClientWriter<Stream>::finish_now() {
    if constexpr (std::is_same_v<Stream, http::Http2StreamSocket>) {
        return std::nullopt;
    } else {
        if (writing_ || !held_.empty() || buffer_.file_size() > 0) return std::nullopt;
        if (!failed_ && !buffer_.memory().empty()) {
            buffer_.take_memory(in_flight_);
            size_t offset = 0;
            while (offset < in_flight_.size()) {
                asio::error_code error;
                offset += write_now(in_flight_.data() + offset, in_flight_.size() - offset, error);
                if (!error) continue;
                if (error == asio::error::would_block) {
                    // The client's socket is full: the rest goes in the background, and
                    // finish() waits for it within the send timeout.
                    writing_ = true;
                    write_memory(offset);
                    return std::nullopt;
                }
                fail();
                break;
            }
            in_flight_.clear();
        }
        return finished();
    }
}

template <typename Stream>
asio::awaitable<bool> ClientWriter<Stream>::send_file(int fd, uint64_t offset, uint64_t length) {
    if (!co_await finish()) co_return false;
    bytes_accepted_ += length;
    asio::error_code error = co_await proxy::send_file(
        socket_, FileSpan{fd, offset, length}, [this] { deadline_.expires_after(send_timeout_); });
    deadline_.disarm();
    if (error) fail();
    co_return !error;
}

template <typename Stream>
asio::awaitable<void> ClientWriter<Stream>::wait_until_below(uint64_t bytes) {
    while (!failed_ && queued() >= bytes) co_await wait();
}

template <typename Stream>
asio::awaitable<void> ClientWriter<Stream>::wait_until_buffered() {
    while (!failed_ && !held_.empty()) co_await wait();
}

template <typename Stream>
void ClientWriter<Stream>::reset() {
    failed_ = false;
    on_failure_ = nullptr;
    held_.clear();
    hold_logged_ = false;
    if (!writing_) {
        buffer_.clear();
        in_flight_.clear();
    }
}

template <typename Stream>
void ClientWriter<Stream>::release_memory() {
    if (writing_) return;
    buffer_.release();
    // The next response's head takes it again (proxy::HeadStorage).
    ThreadSpares<std::string>::give_back(in_flight_);
}

template class ClientWriter<asio::ip::tcp::socket>;
template class ClientWriter<tls::TlsSocket>;
template class ClientWriter<http::Http2StreamSocket>;

}  // namespace passenger::proxy

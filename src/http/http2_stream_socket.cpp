#include "http/http2_stream_socket.hpp"

#include "http/write_helpers.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace passenger::http {

Http2StreamChannel::Http2StreamChannel(Executor executor, Http2StreamOwner& owner,
                                       std::string request_head, bool eof_at_end)
    : executor_(std::move(executor)),
      owner_(&owner),
      request_(std::move(request_head)),
      eof_at_end_(eof_at_end) {}

// Waits still stored here belong to operations nobody completes any more (the loop is being
// torn down): they are dropped with their handlers.
Http2StreamChannel::~Http2StreamChannel() = default;

bool Http2StreamChannel::deliver(std::string_view data, bool chunked) {
    if (closed_ || shut_down_ || gone_) return false;
    if (request_begin_ == request_.size()) {
        request_.clear();
        request_begin_ = 0;
    }
    if (chunked) {
        append_chunk(request_, data);
    } else {
        request_.append(data);
    }
    unread_data_ += data.size();
    wake(read_waiters_, {});
    return true;
}

void Http2StreamChannel::end_request(bool chunked) {
    if (request_ended_) return;
    request_ended_ = true;
    if (chunked && !closed_) request_.append("0\r\n\r\n");
    wake(read_waiters_, {});
}

void Http2StreamChannel::notify_writable() {
    if (!write_waiters_.empty()) wake(write_waiters_, {});
}

size_t Http2StreamChannel::peer_gone() {
    gone_ = true;
    owner_ = nullptr;
    std::string().swap(request_);
    request_begin_ = 0;
    wake(read_waiters_, {});
    wake(write_waiters_, {});
    return std::exchange(unread_data_, 0);
}

bool Http2StreamChannel::readable() const {
    return request_begin_ < request_.size() || gone_ || (eof_at_end_ && request_ended_);
}

bool Http2StreamChannel::writable() const {
    return !can_send() || owner_->response_room() > 0;
}

void Http2StreamChannel::wake(Waits& waits, asio::error_code error) {
    Waits taken;
    taken.swap(waits);
    for (auto& pending : taken) pending->complete(executor_, error);
}

size_t Http2StreamChannel::read_now(char* out, size_t size, asio::error_code& error) {
    error.clear();
    if (closed_) {
        error = asio::error::bad_descriptor;
        return 0;
    }
    if (request_begin_ < request_.size()) {
        const size_t count = std::min(size, request_.size() - request_begin_);
        std::memcpy(out, request_.data() + request_begin_, count);
        request_begin_ += count;
        if (request_begin_ == request_.size()) {
            request_.clear();
            request_begin_ = 0;
        }
        // The chunk framing read with the data makes this give back a few bytes early: the
        // stream then holds at most the window and that framing.
        const size_t data = std::min(count, unread_data_);
        unread_data_ -= data;
        if (data > 0 && owner_) owner_->request_consumed(data);
        return count;
    }
    if (gone_) {
        error = asio::error::connection_reset;
    } else if (eof_at_end_ && request_ended_) {
        error = asio::error::eof;
    } else {
        error = asio::error::would_block;
    }
    return 0;
}

size_t Http2StreamChannel::write_now(const char* data, size_t size, asio::error_code& error) {
    error.clear();
    if (closed_) {
        error = asio::error::bad_descriptor;
        return 0;
    }
    if (!can_send()) {
        error = asio::error::broken_pipe;
        return 0;
    }
    if (size == 0) return 0;
    const size_t taken = owner_->take_response(std::string_view(data, size));
    if (taken == 0) error = asio::error::would_block;
    return taken;
}

ssize_t Http2StreamChannel::send_file_now(int file_fd, off_t* offset, size_t count) {
    if (!can_send()) {
        errno = closed_ ? EBADF : EPIPE;
        return -1;
    }
    // One thread's buffer: the stream's queue takes at most its room per call anyway.
    thread_local std::array<char, 64 * 1024> buffer;
    const size_t room = owner_->response_room();
    if (room == 0) {
        errno = EAGAIN;
        return -1;
    }
    const ssize_t length =
        ::pread(file_fd, buffer.data(), std::min({count, room, buffer.size()}), *offset);
    if (length <= 0) return length;
    const size_t taken =
        owner_->take_response(std::string_view(buffer.data(), static_cast<size_t>(length)));
    *offset += static_cast<off_t>(taken);
    return static_cast<ssize_t>(taken);
}

PeerState Http2StreamChannel::peek_peer() const {
    if (closed_ || gone_) return PeerState::closed;
    if (request_begin_ < request_.size()) return PeerState::sent_bytes;
    if (eof_at_end_ && request_ended_) return PeerState::closed;
    return PeerState::quiet;
}

void Http2StreamChannel::cancel() {
    wake(read_waiters_, asio::error::operation_aborted);
    wake(write_waiters_, asio::error::operation_aborted);
}

void Http2StreamChannel::shut_down_sending() {
    if (shut_down_) return;
    shut_down_ = true;
    if (owner_) owner_->end_response();
    wake(write_waiters_, {});
}

void Http2StreamChannel::close() {
    if (closed_) return;
    cancel();  // pending waits end with operation_aborted, as a closed socket's do
    shut_down_sending();
    closed_ = true;
    // What the connection code left unread goes back to the client's window (the connection's
    // too: other streams share it).
    if (owner_ && unread_data_ > 0) owner_->request_consumed(std::exchange(unread_data_, 0));
    std::string().swap(request_);
    request_begin_ = 0;
}

ssize_t Http2StreamSocket::receive_now(char* buffer, size_t size) {
    asio::error_code error;
    const size_t count = channel_->read_now(buffer, size, error);
    if (!error) return static_cast<ssize_t>(count);
    if (error == asio::error::eof) return 0;
    errno = error == asio::error::would_block ? EAGAIN : error.value();
    return -1;
}

void Http2StreamSocket::cancel(asio::error_code& error) {
    error.clear();
    if (channel_) channel_->cancel();
}

void Http2StreamSocket::shutdown(shutdown_type what, asio::error_code& error) {
    error.clear();
    if (channel_ && what != asio::socket_base::shutdown_receive) channel_->shut_down_sending();
}

void Http2StreamSocket::close(asio::error_code& error) {
    error.clear();
    if (channel_) channel_->close();
}

}  // namespace passenger::http

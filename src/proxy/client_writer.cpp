#include "proxy/client_writer.hpp"

#include <sys/sendfile.h>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <cerrno>

namespace passenger::proxy {
namespace {

// Bytes asked of one sendfile(2) call; the kernel sends what fits in the socket buffer.
constexpr size_t file_chunk = 1 << 20;
// A client fast enough never to make the socket block would keep the loop running; after this
// many bytes the writer lets the other connections run.
constexpr size_t bytes_between_yields = 4 << 20;

// sendfile(2) needs the descriptor itself non-blocking; asio's setter makes an ioctl every time.
void make_non_blocking(asio::ip::tcp::socket& socket, asio::error_code& error) {
    if (!socket.non_blocking()) socket.non_blocking(true, error);
}

}  // namespace

ClientWriter::ClientWriter(asio::ip::tcp::socket& socket,
                           const http::BodyBufferSettings& buffer_settings,
                           SocketDeadline& deadline, std::chrono::seconds send_timeout)
    : socket_(socket),
      buffer_(buffer_settings),
      deadline_(deadline),
      send_timeout_(send_timeout),
      wake_(socket.get_executor()) {}

void ClientWriter::queue(std::string& data) {
    if (failed_) return data.clear();
    if (buffer_.take(data)) fail();
}

bool ClientWriter::write(std::string& data) {
    queue(data);
    kick();
    return !failed_;
}

void ClientWriter::kick() {
    if (writing_ || failed_) return;
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
void ClientWriter::write_memory(size_t offset) {
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

void ClientWriter::send_file_part() {
    if (failed_ || deadline_.expired()) return on_write_done(asio::error::operation_aborted);
    asio::error_code error;
    make_non_blocking(socket_, error);
    size_t since_yield = 0;
    while (!error && buffer_.file_size() > 0) {
        off_t offset = static_cast<off_t>(buffer_.file_offset());
        size_t length = static_cast<size_t>(std::min<uint64_t>(buffer_.file_size(), file_chunk));
        ssize_t sent = ::sendfile(socket_.native_handle(), buffer_.file_fd(), &offset, length);
        if (sent > 0) {
            buffer_.consume_file(static_cast<uint64_t>(sent));
            deadline_.expires_after(send_timeout_);
            since_yield += static_cast<size_t>(sent);
            if (since_yield >= bytes_between_yields && buffer_.file_size() > 0) {
                asio::post(socket_.get_executor(), [this] { send_file_part(); });
                return;
            }
        } else if (sent == 0) {
            error = asio::error::eof;  // the temp file is shorter than it should be
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            socket_.async_wait(asio::ip::tcp::socket::wait_write,
                               [this](const asio::error_code& wait_error) {
                                   if (wait_error) return on_write_done(wait_error);
                                   send_file_part();
                               });
            return;
        } else if (errno != EINTR) {
            error = asio::error_code(errno, asio::error::get_system_category());
        }
    }
    on_write_done(error);
}

void ClientWriter::on_write_done(const asio::error_code& error) {
    writing_ = false;
    if (error) {
        fail();
    } else {
        kick();
    }
    notify();
}

void ClientWriter::fail() {
    if (failed_) return;
    failed_ = true;
    deadline_.disarm();
    if (!writing_) buffer_.clear();  // else an in-flight sendfile still reads the file
    if (on_failure_) {
        auto callback = std::move(on_failure_);
        on_failure_ = nullptr;
        callback();
    }
    notify();
}

void ClientWriter::notify() {
    if (waiting_) wake_.cancel();
}

asio::awaitable<void> ClientWriter::wait() {
    waiting_ = true;
    wake_.expires_at(asio::steady_timer::time_point::max());
    asio::error_code ignored;
    co_await wake_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    waiting_ = false;
}

asio::awaitable<bool> ClientWriter::finish() {
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
    while (writing_ || (!failed_ && !buffer_.empty())) co_await wait();
    deadline_.disarm();
    on_failure_ = nullptr;
    buffer_.clear();
    co_return !failed_;
}

asio::awaitable<bool> ClientWriter::send_file(int fd, uint64_t offset, uint64_t length) {
    if (!co_await finish()) co_return false;
    asio::error_code error;
    make_non_blocking(socket_, error);
    size_t since_yield = 0;
    while (!error && length > 0) {
        off_t position = static_cast<off_t>(offset);
        ssize_t sent = ::sendfile(socket_.native_handle(), fd, &position,
                                  static_cast<size_t>(std::min<uint64_t>(length, file_chunk)));
        if (sent > 0) {
            offset += static_cast<uint64_t>(sent);
            length -= static_cast<uint64_t>(sent);
            since_yield += static_cast<size_t>(sent);
            if (since_yield >= bytes_between_yields && length > 0) {
                since_yield = 0;
                co_await asio::post(socket_.get_executor(), asio::use_awaitable);
            }
        } else if (sent == 0) {
            error = asio::error::eof;  // the file shrank
        } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
            since_yield = 0;
            deadline_.expires_after(send_timeout_);
            co_await socket_.async_wait(asio::ip::tcp::socket::wait_write,
                                        asio::redirect_error(asio::use_awaitable, error));
        } else if (errno != EINTR) {
            error = asio::error_code(errno, asio::error::get_system_category());
        }
    }
    deadline_.disarm();
    if (error) fail();
    co_return !error;
}

asio::awaitable<void> ClientWriter::wait_until_below(uint64_t bytes) {
    while (!failed_ && queued() >= bytes) co_await wait();
}

void ClientWriter::reset() {
    failed_ = false;
    on_failure_ = nullptr;
    if (!writing_) {
        buffer_.clear();
        in_flight_.clear();
    }
}

void ClientWriter::release_memory() {
    if (writing_) return;
    buffer_.release();
    std::string().swap(in_flight_);
}

}  // namespace passenger::proxy

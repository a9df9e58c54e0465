#include "proxy/client_gone_watch.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <asio/post.hpp>

#include <cerrno>

namespace passenger::proxy {
namespace {

enum class Peek { gone, bytes, nothing };

Peek peek(int fd) {
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return Peek::gone;
    if (n > 0) return Peek::bytes;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? Peek::nothing : Peek::gone;
}

}  // namespace

ClientGoneWatch::ClientGoneWatch(asio::ip::tcp::socket& socket, std::function<void()> on_gone) {
    state_->on_gone = std::move(on_gone);
    int fd = ::dup(socket.native_handle());
    if (fd < 0) return;  // out of descriptors: no watch, the response still completes
    asio::error_code error;
    duplicate_.emplace(socket.get_executor());
    duplicate_->assign(fd, error);
    if (error) {
        ::close(fd);
        duplicate_.reset();
        return;
    }
    watch();
}

void ClientGoneWatch::watch() {
    auto state = state_;
    int fd = duplicate_->native_handle();
    switch (peek(fd)) {
        case Peek::bytes:
            return;
        case Peek::gone:
            // Reported from the event loop, like a later close, never from the constructor.
            asio::post(duplicate_->get_executor(), [state] {
                if (state->stopped || state->gone) return;
                state->gone = true;
                state->on_gone();
            });
            return;
        case Peek::nothing:
            break;
    }
    duplicate_->async_wait(asio::posix::stream_descriptor::wait_read,
                           [state, fd](const asio::error_code& error) {
                               if (error || state->stopped) return;
                               if (peek(fd) != Peek::gone) return;
                               state->gone = true;
                               state->on_gone();
                           });
}

void ClientGoneWatch::stop() {
    state_->stopped = true;
    if (duplicate_) {
        asio::error_code ignored;
        duplicate_->close(ignored);  // cancels the wait; the client's own descriptor stays open
        duplicate_.reset();
    }
}

}  // namespace passenger::proxy

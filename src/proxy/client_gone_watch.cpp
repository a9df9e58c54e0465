#include "proxy/client_gone_watch.hpp"

#include <sys/socket.h>

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
    state_->socket = &socket;
    state_->on_gone = std::move(on_gone);
    watch(state_);
}

// Registering the wait re-arms the socket's readiness notification, so a client that has
// already closed is reported at once, from the event loop, like a later close.
void ClientGoneWatch::watch(const std::shared_ptr<State>& state) {
    state->socket->async_wait(asio::ip::tcp::socket::wait_read,
                              [state](const asio::error_code& error) {
                                  // After stop() the socket may belong to the next request.
                                  if (error || state->stopped) return;
                                  switch (peek(state->socket->native_handle())) {
                                      case Peek::bytes:
                                          return;
                                      case Peek::nothing:
                                          return watch(state);  // a spurious wake-up
                                      case Peek::gone:
                                          state->gone = true;
                                          state->on_gone();
                                          return;
                                  }
                              });
}

void ClientGoneWatch::stop() {
    state_->stopped = true;
    state_->on_gone = nullptr;  // it may refer to what the caller is about to destroy
}

}  // namespace passenger::proxy

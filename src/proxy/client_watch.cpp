#include "proxy/client_watch.hpp"

#include "common/peer_probe.hpp"
#include "http/http2_stream_socket.hpp"
#include "tls/tls_socket.hpp"

namespace passenger::proxy {

template <typename Socket>
pool::Group::OnQueued ClientWatch<Socket>::on_queued() {
    return [this](std::function<void()> abandon) {
        state_->watching = true;
        socket_.async_wait(Socket::wait_read,
                           [state = state_, &socket = socket_,
                            abandon = std::move(abandon)](const asio::error_code& error) {
                               state->watching = false;
                               if (error || state->stopped) return;
                               // Readable: either the client is gone or it sent more bytes (a
                               // pipelined request, which says nothing about the client leaving;
                               // stop watching then).
                               if (peek_peer(socket) == PeerState::closed) abandon();
                           });
    };
}

template <typename Socket>
void ClientWatch<Socket>::stop() {
    state_->stopped = true;
    if (state_->watching) {
        // Only the wait is pending on the socket at this point, so cancel() ends just that.
        asio::error_code ignored;
        socket_.cancel(ignored);
        state_->watching = false;
    }
}

template class ClientWatch<asio::ip::tcp::socket>;
template class ClientWatch<tls::TlsSocket>;
template class ClientWatch<http::Http2StreamSocket>;

}  // namespace passenger::proxy

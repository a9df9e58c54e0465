#include "proxy/client_gone_watch.hpp"

#include "common/peer_probe.hpp"
#include "http/http2_stream_socket.hpp"
#include "tls/tls_socket.hpp"

namespace passenger::proxy {

template <typename Socket>
void ClientGoneWatch<Socket>::start() {
    if (state_ || !on_gone_) return;  // started already, or stopped
    state_ = std::make_shared<State>();
    state_->socket = &reader_.stream();
    state_->on_gone = std::move(on_gone_);
    if constexpr (http::MessageReader<Socket>::can_wait_by_receiving) {
        if (by_receiving_) {
            // stop() ends the hook before the state could be the only owner left.
            reader_.watch_by_receiving([state = state_.get()] {
                state->gone = true;
                state->on_gone();
            });
            return;
        }
    }
    watch(state_);
}

// Registering the wait re-arms the socket's readiness notification, so a client that has
// already closed is reported at once, from the event loop, like a later close.
template <typename Socket>
void ClientGoneWatch<Socket>::watch(const std::shared_ptr<State>& state) {
    state->socket->async_wait(Socket::wait_read, [state](const asio::error_code& error) {
        // After stop() the socket may belong to the next request.
        if (error || state->stopped) return;
        switch (peek_peer(*state->socket)) {
            case PeerState::sent_bytes:
                return;
            case PeerState::quiet:
                return watch(state);  // a spurious wake-up
            case PeerState::closed:
                state->gone = true;
                state->on_gone();
                return;
        }
    });
}

template <typename Socket>
void ClientGoneWatch<Socket>::stop() {
    on_gone_ = nullptr;
    if (!state_) return;
    if (by_receiving_) reader_.stop_watching();  // the receive stays: the next request's wait
    state_->stopped = true;
    state_->on_gone = nullptr;  // it may refer to what the caller is about to destroy
}

template class ClientGoneWatch<asio::ip::tcp::socket>;
template class ClientGoneWatch<tls::TlsSocket>;
template class ClientGoneWatch<http::Http2StreamSocket>;

}  // namespace passenger::proxy

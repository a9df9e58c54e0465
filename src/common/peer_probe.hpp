// Whether the peer of a connected socket has closed it, asked without taking a byte: the one
// probe behind every "is the client (or the app) still there" check.
#pragma once

namespace passenger {

enum class PeerState {
    closed,      // EOF or a connection error: the peer is gone
    sent_bytes,  // bytes are waiting (they say nothing about the peer leaving)
    quiet,       // nothing to read: still open as far as anyone can tell
};

// A non-blocking one-byte MSG_PEEK recv(2) on `fd`.
PeerState peek_peer(int fd);

// The same for a socket object; a TLS one (tls::TlsSocket) also counts what OpenSSL has read.
template <typename Socket>
PeerState peek_peer(Socket& socket) {
    if constexpr (requires { socket.peek_peer(); }) {
        return socket.peek_peer();
    } else {
        return peek_peer(socket.native_handle());
    }
}

}  // namespace passenger

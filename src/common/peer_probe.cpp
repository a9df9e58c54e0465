#include "common/peer_probe.hpp"

#include <sys/socket.h>

#include <cerrno>

namespace passenger {

PeerState peek_peer(int fd) {
    char byte;
    ssize_t n = ::recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) return PeerState::sent_bytes;
    if (n == 0) return PeerState::closed;
    return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? PeerState::quiet
                                                                     : PeerState::closed;
}

}  // namespace passenger

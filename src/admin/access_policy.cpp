#include "admin/access_policy.hpp"

#include <sys/socket.h>

namespace passenger::admin {

std::optional<PeerCredentials> peer_credentials(int fd) {
    ucred credentials{};
    socklen_t length = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) != 0 ||
        length != sizeof credentials)
        return std::nullopt;
    return PeerCredentials{credentials.pid, credentials.uid, credentials.gid};
}

bool may_access(uid_t peer_uid, uid_t owner_uid, AccessKind kind) {
    switch (kind) {
        case AccessKind::read:
            return peer_uid == 0 || peer_uid == owner_uid;
        case AccessKind::modify:
            return peer_uid == 0 || peer_uid == owner_uid;
    }
    return false;
}

}  // namespace passenger::admin

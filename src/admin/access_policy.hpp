// Who may use an instance's admin API. The rule, enforced twice (the socket file's mode 0600 and
// the peer credentials of each connection, SO_PEERCRED):
//   - reading (pool state, requests in flight, metrics): root and the user the core runs as;
//   - modifying (restarting an app): root and the user the core runs as.
// Anybody else gets a 403 and the connection is closed. The two rules are kept apart so that
// read-only access for others (e.g. a monitoring group) can be granted without touching the
// mutating calls.
#pragma once

#include <sys/types.h>

#include <optional>

namespace passenger::admin {

enum class AccessKind { read, modify };

struct PeerCredentials {
    pid_t pid = 0;
    uid_t uid = 0;
    gid_t gid = 0;
};

// The credentials of the process at the other end of a connected Unix socket.
std::optional<PeerCredentials> peer_credentials(int fd);

bool may_access(uid_t peer_uid, uid_t owner_uid, AccessKind kind);

}  // namespace passenger::admin

// Messages between the core and the spawn helper (spawn_helper.hpp): one JSON object per
// SOCK_SEQPACKET message, with descriptors attached by SCM_RIGHTS where a message carries them
// (a started app's stdout and stderr). The message kinds are listed in spawn/README.md.
#pragma once

#include "common/file_descriptor.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace passenger::spawn {

// Larger messages are refused (an app's argv and environment fit easily).
inline constexpr size_t kMaxHelperMessage = 192 * 1024;

struct HelperMessage {
    nlohmann::json body;
    std::vector<FileDescriptor> fds;
};

// Sends `body` with `fds` (at most 4). Returns an error line, empty on success.
std::string send_helper_message(int socket, const nlohmann::json& body,
                                const std::vector<int>& fds = {});

enum class ReceiveStatus { message, would_block, closed, error };

// Receives one message (the descriptors come close-on-exec). `flags`: MSG_DONTWAIT or 0.
ReceiveStatus receive_helper_message(int socket, HelperMessage& message, int flags);

}  // namespace passenger::spawn

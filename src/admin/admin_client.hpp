// The client side of the admin API, for the command-line tools: one request on a fresh
// connection to an instance's admin socket, bounded by a timeout.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <variant>

namespace passenger::admin {

struct AdminReply {
    int status = 0;
    std::string content_type;
    std::string body;
};

// Sends `method target` (with `body` as JSON when not empty) and reads the whole response.
// On failure returns one line saying what went wrong and what to try.
std::variant<AdminReply, std::string> call_admin(
    const std::string& socket_path, std::string_view method, std::string_view target,
    std::string_view body = {}, std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace passenger::admin

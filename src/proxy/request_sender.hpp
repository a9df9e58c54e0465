// Writes a request whose body the front end buffered in full to an app connection.
#pragma once

#include "http/body_buffer.hpp"
#include "spawn/app_endpoint.hpp"

#include <asio/awaitable.hpp>

#include <cstddef>
#include <optional>
#include <string_view>

namespace passenger::proxy {

enum class Sending {
    done,
    failed_unsent,  // the connection failed before any byte left: the app got nothing
    failed,         // the connection failed midway: the app may have got the request
};

// The head and the body's memory part in one sendmsg(2) without waiting, and without a
// coroutine: the usual case, a request the socket takes at once. `written` counts the bytes of
// head and memory part that went. Returns how it ended, or nullopt when the rest needs
// send_buffered_request(): the socket was full, or the body has a file part.
std::optional<Sending> send_request_now(spawn::AppSocket& app, std::string_view head,
                                        const http::BodyBuffer& body, size_t& written);

// The head and the body's memory part (from `written` on) in one write, then its file part with
// sendfile(2). The buffer is only read, so the same request can be sent again on another
// connection.
asio::awaitable<Sending> send_buffered_request(spawn::AppSocket& app, std::string_view head,
                                               const http::BodyBuffer& body, size_t written = 0);

}  // namespace passenger::proxy

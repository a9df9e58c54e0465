// Writes a request whose body the front end buffered in full to an app connection.
#pragma once

#include "http/body_buffer.hpp"
#include "spawn/app_endpoint.hpp"

#include <asio/awaitable.hpp>

#include <string_view>

namespace passenger::proxy {

enum class Sending {
    done,
    failed_unsent,  // the connection failed before any byte left: the app got nothing
    failed,         // the connection failed midway: the app may have got the request
};

// The head and the body's memory part in one write, then its file part with sendfile(2). The
// buffer is only read, so the same request can be sent again on another connection.
asio::awaitable<Sending> send_buffered_request(spawn::AppSocket& app, std::string_view head,
                                               const http::BodyBuffer& body);

}  // namespace passenger::proxy

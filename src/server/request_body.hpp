// Reads a request's whole body into a BodyBuffer before the app is involved, within the body
// size limit and the body timeout.
#pragma once

#include "common/socket_deadline.hpp"
#include "http/body_buffer.hpp"
#include "proxy/forward.hpp"

#include <asio/awaitable.hpp>

#include <chrono>
#include <string>

namespace passenger::server {

enum class BodyReadResult {
    complete,
    too_large,       // over max_size, or over the largest file the disk takes (413)
    timed_out,       // the client paused longer than the body timeout (408)
    client_gone,     // closed or failed mid-body
    invalid,         // chunked framing or trailers broke the rules (parser().error_status())
    no_space,        // the temp file's disk is full, or the quota used up (507)
    storage_failed,  // the temp file could not be created or written otherwise (500)
};

struct BodyReadLimits {
    uint64_t max_size = 0;  // 0: unlimited
    std::chrono::seconds timeout{0};
};

// `scratch` is reused between requests to avoid an allocation per read. `Stream`: the client's
// (asio::ip::tcp::socket or tls::TlsSocket).
template <typename Stream>
asio::awaitable<BodyReadResult> read_request_body(http::MessageReader<Stream>& reader,
                                                  http::BodyBuffer& body, std::string& scratch,
                                                  const BodyReadLimits& limits,
                                                  SocketDeadline& deadline);

}  // namespace passenger::server

// The front end's limits, timeouts and buffer settings in the form the connection code uses,
// derived once from config::FrontEndOptions.
#pragma once

#include "config/options.hpp"
#include "http/body_buffer.hpp"
#include "http/message_parser.hpp"

#include <chrono>

namespace passenger::server {

struct FrontEndSettings {
    explicit FrontEndSettings(const config::FrontEndOptions& options);

    http::HeadLimits head_limits;
    size_t max_head_size;
    uint64_t max_body_size;  // 0: unlimited
    http::BodyBufferSettings request_buffer;
    http::BodyBufferSettings response_buffer;
    // Zero: no timeout.
    std::chrono::seconds header_timeout;
    std::chrono::seconds body_timeout;
    std::chrono::seconds keepalive_timeout;
    std::chrono::seconds send_timeout;
    // The shortest of the timeouts above (how often a busy connection's timer may fire).
    std::chrono::seconds timer_granularity;
};

}  // namespace passenger::server

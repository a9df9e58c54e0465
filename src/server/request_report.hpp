// What the access log and the metrics learn of a request the front end answered, gathered from
// the connection's parts (its head, its passenger-status record, what the proxy reported).
#pragma once

#include "admin/request_registry.hpp"
#include "http/message_parser.hpp"
#include "proxy/forward.hpp"
#include "server/access_log.hpp"

#include <chrono>
#include <cstdint>

namespace passenger::server {

struct RequestTraffic {
    std::chrono::system_clock::time_point arrived;  // the head was read
    uint64_t bytes_out = 0;  // handed to the client's writer (error pages included)
    uint64_t bytes_in = 0;   // the request body
};

// The entry; its views point into `head` and `record`, which must outlive it.
AccessLogEntry request_report(const http::MessageHead& head, const admin::RequestRecord& record,
                              const proxy::ForwardOutcome& outcome, const RequestTraffic& traffic);

}  // namespace passenger::server

// The heads the proxy writes: the request as the app receives it, and the app's response as
// the client receives it. Pure functions, so the header rules are unit-testable.
#pragma once

#include "http/message_parser.hpp"

#include <cstdint>
#include <string>
#include <string_view>

namespace passenger::proxy {

// The value of a head's Connection header ("" when absent), looked up once per head.
std::string_view connection_header(const http::MessageHead& head);

// True for headers that describe one connection, not the message (RFC 9110 7.6.1), including
// those the head's Connection header (`connection`) names.
bool is_hop_by_hop(std::string_view name, std::string_view connection);

// "METHOD target HTTP/1.1" plus the client's end-to-end headers, X-Forwarded-For/-Proto/-Host set
// from the connection (never trusted from the client), no header whose name has an underscore,
// the body framing, and Connection: keep-alive (for an upgrade: its Upgrade and Connection:
// Upgrade). The body, which the front end buffered (`body_length` bytes), goes with a
// Content-Length whatever its framing was. X-Forwarded-Proto says https when the client used TLS
// (behind nginx: nginx's `https` request field). From a trusted peer (--trusted-proxy) the
// client's X-Forwarded-* are kept instead, `peer_address` appended to its X-Forwarded-For chain.
struct ClientOrigin {
    bool https = false;
    bool trusted_peer = false;
};
std::string app_request_head(const http::MessageHead& request, std::string_view peer_address,
                             uint64_t body_length, ClientOrigin origin = {});
// The same, written over `out` (its storage reused: the front end keeps one per connection).
void write_app_request_head(std::string& out, const http::MessageHead& request,
                            std::string_view peer_address, uint64_t body_length,
                            ClientOrigin origin = {});

enum class BodyFraming { none, content_length, chunked, until_close };

struct ClientResponsePlan {
    std::string head;  // serialized status line and headers
    BodyFraming framing = BodyFraming::none;
    bool keep_alive = false;  // the client connection may carry another request afterwards
};

// Decides how the app's response reaches the client: its framing (re-chunked when the length is
// unknown and the client speaks HTTP/1.1, close-delimited for HTTP/1.0) and keep-alive.
ClientResponsePlan client_response_plan(const http::MessageHead& response,
                                        const http::MessageHead& request, bool client_keep_alive);
// The same, the head written over `head` (its storage reused); returns the plan without it.
ClientResponsePlan client_response_plan(const http::MessageHead& response,
                                        const http::MessageHead& request, bool client_keep_alive,
                                        std::string& head);

}  // namespace passenger::proxy

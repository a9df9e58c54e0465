// How an HTTP/2 stream's request and response look on the HTTP/1.1 side, which the connection
// code (and so the app) speaks: the request's fields as nghttp2 hands them over, turned into an
// HTTP/1.1 head, and an HTTP/1.1 response head turned into HTTP/2 response fields. An extended
// CONNECT for a WebSocket (RFC 8441) becomes the app's ordinary upgrade, its 101 a 200.
// Used by server/http2_session.cpp only.
#pragma once

#include "http/message_parser.hpp"

#include <nghttp2/nghttp2.h>

#include <string>
#include <vector>

namespace passenger::server {

// One stream's request fields (RFC 9113 8.3.1 pseudo-headers apart; nghttp2 has checked them).
struct Http2Request {
    std::string method, path, authority;
    std::string protocol;  // extended CONNECT's :protocol (RFC 8441)
    http::HeaderList headers;
    std::string cookie;  // the cookie crumbs joined again (RFC 9113 8.2.3)
    bool websocket() const { return method == "CONNECT" && protocol == "websocket"; }
};

struct Http1RequestHead {
    std::string text;
    bool chunked = false;  // the body follows in chunks (the client gave no length)
};

// The request as an HTTP/1.1 head on a connection of its own that closes after it (or, for a
// WebSocket, an upgrade with a fresh Sec-WebSocket-Key).
Http1RequestHead http1_request_head(const Http2Request& request, bool end_stream);

// The fields of nghttp2_submit_response for `head`, without HTTP/1.1's connection-specific
// ones; they point into this object.
class Http2ResponseFields {
  public:
    // `websocket`: the stream is an RFC 8441 one (its 101 is a 200, without the handshake).
    Http2ResponseFields(const http::MessageHead& head, bool websocket);
    Http2ResponseFields(const Http2ResponseFields&) = delete;
    Http2ResponseFields& operator=(const Http2ResponseFields&) = delete;

    const nghttp2_nv* data() const { return fields_.data(); }
    size_t size() const { return fields_.size(); }

  private:
    void add(const std::string& name, const std::string& value);

    std::string status_;
    std::vector<std::string> names_;
    std::vector<nghttp2_nv> fields_;
};

}  // namespace passenger::server

// The rules a client's request head must pass before anything acts on it, beyond what llhttp's
// strict mode already refuses, and the normalization of what passes. Pure functions over a parsed
// head, so each rule is unit-testable and fuzzable.
#pragma once

#include "http/message_parser.hpp"

#include <string_view>

namespace passenger::http {

struct Rejection {
    int status = 0;  // 0: the request is acceptable
    std::string_view reason;

    explicit operator bool() const { return status != 0; }
};

// Checks the version (1.0 or 1.1), the method (no CONNECT), every header name (a token), Host
// (exactly one for HTTP/1.1, at most one otherwise, a valid authority), Transfer-Encoding (all its
// lines together exactly "chunked", HTTP/1.1 only), that an upgrade request has no body, and the
// request-target's form and characters.
Rejection check_request_head(const MessageHead& head);

// Rewrites the target to origin-form: an absolute-form target ("http://host/path") becomes
// "/path" and its authority replaces Host; in the path, percent-encoded unreserved characters are
// decoded and "." and ".." segments removed (RFC 3986 6.2.2). The query is left as it is.
// Returns a rejection when the path climbs above the root. Leaves the head untouched (and costs
// no allocation) when it is already normal. Call after check_request_head() accepted it.
Rejection normalize_request_target(MessageHead& head);

// Request headers never forwarded to an app: names with an underscore (CGI-style apps would
// confuse X_Forwarded_For with X-Forwarded-For: CVE-2015-7519) and the X-Forwarded-* headers the
// proxy sets itself from the connection.
bool is_untrusted_request_header(std::string_view name);

// A token (RFC 9110 5.6.2): one or more of ALPHA DIGIT !#$%&'*+-.^_`|~
bool is_token(std::string_view text);

}  // namespace passenger::http

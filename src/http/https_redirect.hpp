// --ssl-redirect: the answer to a plain HTTP request when HTTPS is served on another port.
#pragma once

#include "http/message_parser.hpp"

#include <string>

namespace passenger::http {

// "308 Permanent Redirect" to https://HOST[:ssl_port]/target, HOST being the request's Host
// without its port (308 keeps the method and body, unlike 301). "" when the request has no Host
// (HTTP/1.0) to build the URL from.
std::string https_redirect_response(const MessageHead& request, int ssl_port, bool keep_alive);

}  // namespace passenger::http

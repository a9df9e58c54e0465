// Sticky sessions (--sticky-sessions): a cookie that names the process which answered a
// browser's first request, so its later requests (a SockJS session's polls and sends, say) reach
// the same process. The cookie carries the process's opaque sticky id, never its PID.
#pragma once

#include "http/message_parser.hpp"

#include <string>
#include <string_view>

namespace passenger::proxy {

// The value of the cookie `name` in the request's Cookie header(s) (the first one when the
// browser sent several); empty when absent.
std::string sticky_cookie_value(const http::MessageHead& request, std::string_view name);

// "Set-Cookie: NAME=VALUE; ATTRIBUTES\r\n" (no "; " when there are no attributes). `secure`
// (the request came over HTTPS) adds "; Secure" unless the attributes have it: a browser would
// not send a Secure cookie over plain HTTP, so it is only set where it can come back.
std::string sticky_set_cookie_line(std::string_view name, std::string_view value,
                                   std::string_view attributes, bool secure = false);

}  // namespace passenger::proxy

// passenger_pre_start URL (nginx): once nginx has a configuration, the core requests each URL
// through nginx, as Passenger does, so the app serving it starts before any client asks. Going
// through nginx (rather than naming the app to the pool) means nginx's own routing picks the
// server block and location, exactly as for a client: no second, C-side copy of nginx's rules.
#pragma once

#include <asio/io_context.hpp>

#include <string>
#include <variant>

namespace passenger::server {

struct PreStartTarget {
    std::string host;  // as written; also the Host header
    std::string port;  // "80" when the URL has none
    std::string path;  // "/" when the URL has none
};

// http://HOST[:PORT][/PATH] (an IPv6 HOST in brackets); returns the parts or why not.
std::variant<PreStartTarget, std::string> parse_pre_start_url(const std::string& url);

// Requests `url` in the background (GET, HTTP/1.0, bounded in time) and logs the outcome.
void pre_start(asio::io_context& io, const std::string& url);

}  // namespace passenger::server

#include "http/https_redirect.hpp"

#include "http/response_head.hpp"

#include <fmt/format.h>

namespace passenger::http {
namespace {

// "example.com:80" -> "example.com", "[::1]:80" -> "[::1]" (the sanitizer checked the syntax).
std::string_view host_without_port(std::string_view authority) {
    if (authority.starts_with('[')) {
        size_t close = authority.find(']');
        return close == std::string_view::npos ? authority : authority.substr(0, close + 1);
    }
    return authority.substr(0, authority.find(':'));
}

}  // namespace

std::string https_redirect_response(const MessageHead& request, int ssl_port, bool keep_alive) {
    const std::string* host = request.find("host");
    if (host == nullptr || host->empty()) return {};
    std::string port = ssl_port == 443 ? "" : fmt::format(":{}", ssl_port);
    return fmt::format(
        "HTTP/1.1 308 Permanent Redirect\r\nDate: {}\r\nLocation: https://{}{}{}\r\n"
        "Content-Length: 0\r\n{}\r\n",
        http_date_now(), host_without_port(*host), port, request.target,
        keep_alive ? "" : "Connection: close\r\n");
}

}  // namespace passenger::http

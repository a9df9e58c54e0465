#include "proxy/sticky_cookie.hpp"

#include "http/response_head.hpp"

namespace passenger::proxy {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

bool has_secure_attribute(std::string_view attributes) {
    for (;;) {
        size_t end = attributes.find(';');
        if (http::iequals(trim(attributes.substr(0, end)), "secure")) return true;
        if (end == std::string_view::npos) return false;
        attributes.remove_prefix(end + 1);
    }
}

}  // namespace

std::string sticky_cookie_value(const http::MessageHead& request, std::string_view name) {
    for (const auto& [header, value] : request.headers) {
        if (!http::iequals(header, "cookie")) continue;
        std::string_view rest = value;
        while (!rest.empty()) {
            size_t semicolon = rest.find(';');
            std::string_view pair = trim(rest.substr(0, semicolon));
            rest = semicolon == std::string_view::npos ? std::string_view()
                                                       : rest.substr(semicolon + 1);
            size_t equals = pair.find('=');
            if (equals == std::string_view::npos || trim(pair.substr(0, equals)) != name) continue;
            std::string_view cookie = trim(pair.substr(equals + 1));
            if (cookie.size() >= 2 && cookie.front() == '"' && cookie.back() == '"')
                cookie = cookie.substr(1, cookie.size() - 2);
            return std::string(cookie);
        }
    }
    return {};
}

std::string sticky_set_cookie_line(std::string_view name, std::string_view value,
                                   std::string_view attributes, bool secure) {
    std::string line = "Set-Cookie: ";
    line.append(name);
    line.push_back('=');
    line.append(value);
    if (!attributes.empty()) {
        line.append("; ");
        line.append(attributes);
    }
    if (secure && !has_secure_attribute(attributes)) line.append("; Secure");
    line.append("\r\n");
    return line;
}

}  // namespace passenger::proxy

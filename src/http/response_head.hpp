// A response's status line and headers, as the server writes them to a client.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace passenger::http {

struct ResponseHead {
    int status = 200;
    std::vector<std::pair<std::string, std::string>> headers;

    void add(std::string name, std::string value) {
        headers.emplace_back(std::move(name), std::move(value));
    }
    // Case-insensitive lookup of the first header with this name; nullptr when absent.
    const std::string* find(std::string_view name) const;
    // "HTTP/1.1 <status> <reason>\r\n" + headers + "\r\n". The caller adds Date, Server and
    // Connection beforehand.
    std::string serialize() const;
};

// The standard reason phrase for a status code ("Not Found"), or "Unknown".
std::string_view reason_phrase(int status);

// The current time in IMF-fixdate form, cached per second (for Date and Last-Modified).
std::string_view http_date_now();
// Formats a Unix time in IMF-fixdate form ("Sun, 06 Nov 1994 08:49:37 GMT").
std::string format_http_date(long unix_seconds);
// Parses IMF-fixdate; returns -1 when malformed.
long parse_http_date(std::string_view text);

// ASCII case-insensitive equality, as HTTP tokens compare; inline because header handling calls
// it for every header against several names, and most calls end at the size check.
inline bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i) {
        auto x = static_cast<unsigned char>(a[i]);
        auto y = static_cast<unsigned char>(b[i]);
        if (x == y) continue;
        // Differing bytes match only as the two cases of one letter.
        auto lower = static_cast<unsigned char>(x | 0x20);
        if (lower != (y | 0x20) || lower < 'a' || lower > 'z') return false;
    }
    return true;
}

}  // namespace passenger::http

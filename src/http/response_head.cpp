#include "http/response_head.hpp"

#include <fmt/format.h>

#include <cctype>
#include <ctime>

namespace passenger::http {

const std::string* ResponseHead::find(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

std::string ResponseHead::serialize() const {
    std::string out = fmt::format("HTTP/1.1 {} {}\r\n", status, reason_phrase(status));
    for (const auto& [key, value] : headers) {
        out += key;
        out += ": ";
        out += value;
        out += "\r\n";
    }
    out += "\r\n";
    return out;
}

std::string_view reason_phrase(int status) {
    switch (status) {
        case 100:
            return "Continue";
        case 101:
            return "Switching Protocols";
        case 200:
            return "OK";
        case 201:
            return "Created";
        case 202:
            return "Accepted";
        case 204:
            return "No Content";
        case 206:
            return "Partial Content";
        case 301:
            return "Moved Permanently";
        case 302:
            return "Found";
        case 303:
            return "See Other";
        case 304:
            return "Not Modified";
        case 307:
            return "Temporary Redirect";
        case 308:
            return "Permanent Redirect";
        case 400:
            return "Bad Request";
        case 401:
            return "Unauthorized";
        case 403:
            return "Forbidden";
        case 404:
            return "Not Found";
        case 405:
            return "Method Not Allowed";
        case 408:
            return "Request Timeout";
        case 411:
            return "Length Required";
        case 413:
            return "Payload Too Large";
        case 414:
            return "URI Too Long";
        case 416:
            return "Range Not Satisfiable";
        case 417:
            return "Expectation Failed";
        case 426:
            return "Upgrade Required";
        case 431:
            return "Request Header Fields Too Large";
        case 500:
            return "Internal Server Error";
        case 501:
            return "Not Implemented";
        case 502:
            return "Bad Gateway";
        case 503:
            return "Service Unavailable";
        case 504:
            return "Gateway Timeout";
        case 505:
            return "HTTP Version Not Supported";
        case 507:
            return "Insufficient Storage";
        default:
            return "Unknown";
    }
}

std::string format_http_date(long unix_seconds) {
    time_t t = unix_seconds;
    tm utc{};
    gmtime_r(&t, &utc);
    char buffer[40];
    strftime(buffer, sizeof buffer, "%a, %d %b %Y %H:%M:%S GMT", &utc);
    return buffer;
}

std::string_view http_date_now() {
    static thread_local time_t cached_second = 0;
    static thread_local std::string cached;
    time_t now = time(nullptr);
    if (now != cached_second) {
        cached_second = now;
        cached = format_http_date(now);
    }
    return cached;
}

long parse_http_date(std::string_view text) {
    std::string copy(text);
    tm parsed{};
    const char* end = strptime(copy.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &parsed);
    if (end == nullptr || *end != '\0') return -1;
    return static_cast<long>(timegm(&parsed));
}

}  // namespace passenger::http

#include "http/request_sanitizer.hpp"

#include "http/response_head.hpp"

#include <array>
#include <cstring>

namespace passenger::http {
namespace {

constexpr auto token_table = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
    for (char c : std::string_view("!#$%&'*+-.^_`|~")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

// reg-name and IPv4 characters of an authority's host (RFC 3986 3.2.2), '%' included for
// pct-encoded; ':' separates the port.
constexpr auto host_table = [] {
    std::array<bool, 256> table{};
    for (int c = '0'; c <= '9'; ++c) table[c] = true;
    for (int c = 'a'; c <= 'z'; ++c) table[c] = true;
    for (int c = 'A'; c <= 'Z'; ++c) table[c] = true;
    for (char c : std::string_view("-._~%!$&'()*+,;=")) table[static_cast<unsigned char>(c)] = true;
    return table;
}();

bool is_unreserved(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool all_digits(std::string_view text) {
    for (char c : text) {
        if (c < '0' || c > '9') return false;
    }
    return true;
}

// host [ ":" port ], where host is a reg-name, an IPv4 address or an IP-literal "[...]".
bool is_valid_authority(std::string_view authority) {
    std::string_view host = authority;
    std::string_view port;
    if (!host.empty() && host.front() == '[') {
        size_t close = host.find(']');
        if (close == std::string_view::npos || close < 2) return false;
        for (char c : host.substr(1, close - 1)) {
            if (hex_value(c) < 0 && c != ':' && c != '.') return false;
        }
        std::string_view rest = host.substr(close + 1);
        host = host.substr(0, close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':') return false;
            port = rest.substr(1);
        }
    } else {
        size_t colon = host.find(':');
        if (colon != std::string_view::npos) {
            port = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        for (char c : host) {
            if (!host_table[static_cast<unsigned char>(c)]) return false;
        }
    }
    return port.size() <= 5 && all_digits(port);
}

// Splits an absolute-form target ("http://authority/path?query") into its authority and the
// rest; false when `target` does not have that form.
bool split_absolute_form(std::string_view target, std::string_view& authority,
                         std::string_view& rest) {
    size_t scheme_end = target.find("://");
    if (scheme_end == std::string_view::npos) return false;
    std::string_view scheme = target.substr(0, scheme_end);
    if (!iequals(scheme, "http") && !iequals(scheme, "https")) return false;
    std::string_view after = target.substr(scheme_end + 3);
    size_t end = after.find_first_of("/?");
    authority = after.substr(0, end);
    rest = end == std::string_view::npos ? std::string_view() : after.substr(end);
    return !authority.empty() && authority.find('@') == std::string_view::npos;
}

bool target_characters_ok(std::string_view target) {
    for (char c : target) {
        auto byte = static_cast<unsigned char>(c);
        if (byte <= 0x20 || byte == 0x7f || c == '#') return false;
    }
    return true;
}

// True when the path has something normalize_path() would change: a percent-escape or a "."
// or ".." segment.
bool path_needs_normalizing(std::string_view path) {
    if (path.find('%') != std::string_view::npos) return true;
    for (size_t dot = path.find("/."); dot != std::string_view::npos;
         dot = path.find("/.", dot + 1)) {
        std::string_view after = path.substr(dot + 2);
        if (after.empty() || after.front() == '/') return true;                           // "/."
        if (after.front() == '.' && (after.size() == 1 || after[1] == '/')) return true;  // "/.."
    }
    return false;
}

// Decodes percent-escaped unreserved characters, then removes dot segments. `path` starts with
// '/'. False when the path climbs above the root or holds a malformed escape.
bool normalize_path(std::string_view path, std::string& out) {
    std::string decoded;
    decoded.reserve(path.size());
    for (size_t i = 0; i < path.size(); ++i) {
        if (path[i] != '%') {
            decoded += path[i];
            continue;
        }
        if (i + 2 >= path.size()) return false;
        int high = hex_value(path[i + 1]);
        int low = hex_value(path[i + 2]);
        if (high < 0 || low < 0) return false;
        char c = static_cast<char>(high * 16 + low);
        if (is_unreserved(c)) {
            decoded += c;
        } else {
            decoded.append(path.substr(i, 3));
        }
        i += 2;
    }

    out.clear();
    out.reserve(decoded.size());
    std::string_view rest(decoded);
    rest.remove_prefix(1);  // the leading '/'
    for (;;) {
        size_t slash = rest.find('/');
        const bool last = slash == std::string_view::npos;
        std::string_view segment = rest.substr(0, slash);
        if (segment == ".") {
            if (last) out += '/';
        } else if (segment == "..") {
            if (out.empty()) return false;
            out.resize(out.rfind('/'));
            if (last) out += '/';
        } else {
            out += '/';
            out.append(segment);
        }
        if (last) break;
        rest.remove_prefix(slash + 1);
    }
    if (out.empty()) out.push_back('/');
    return true;
}

// A field's lines joined into the one list value they stand for (RFC 9110 5.3).
std::string combined_field(const MessageHead& head, std::string_view name) {
    std::string combined;
    for (const auto& [key, value] : head.headers) {
        if (!iequals(key, name)) continue;
        if (!combined.empty()) combined.append(", ");
        combined.append(value);
    }
    return combined;
}

std::string* find_mutable(MessageHead& head, std::string_view name) {
    for (auto& [key, value] : head.headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

}  // namespace

bool is_token(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text) {
        if (!token_table[static_cast<unsigned char>(c)]) return false;
    }
    return true;
}

Rejection check_request_head(const MessageHead& head) {
    if (head.http_major != 1 || head.http_minor > 1) {
        if (head.http_major >= 2) return {505, "unsupported HTTP version"};
        return {400, "unsupported HTTP version"};
    }
    if (head.method == "CONNECT")
        return {501, "CONNECT is not supported: this is no forward proxy"};

    int hosts = 0;
    const std::string* host = nullptr;
    int transfer_encodings = 0;
    const std::string* transfer_encoding = nullptr;
    for (const auto& [name, value] : head.headers) {
        if (!is_token(name)) return {400, "invalid header field name"};
        if (iequals(name, "host")) {
            ++hosts;
            host = &value;
        } else if (iequals(name, "transfer-encoding")) {
            ++transfer_encodings;
            transfer_encoding = &value;
        }
    }
    if (hosts > 1) return {400, "more than one Host header"};
    // RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host.
    if (hosts == 0 && head.http_minor == 1) return {400, "HTTP/1.1 request without Host header"};
    if (host != nullptr && !is_valid_authority(*host)) return {400, "invalid Host header"};
    if (transfer_encoding != nullptr) {
        if (head.http_minor == 0) return {400, "Transfer-Encoding in an HTTP/1.0 request"};
        // Several lines are one list (RFC 9110 5.3): "gzip" then "chunked" is "gzip, chunked",
        // which llhttp takes as chunked by its last line alone.
        const bool only_chunked =
            transfer_encodings == 1 ? iequals(*transfer_encoding, "chunked")
                                    : iequals(combined_field(head, "transfer-encoding"), "chunked");
        if (!only_chunked || !head.chunked)
            return {400, "unsupported transfer coding (only chunked is accepted)"};
    }
    // A WebSocket handshake is a GET without a body (RFC 6455 4.1). Refused rather than buffered:
    // then nothing of the client's but its head reaches the app before the app's 101.
    if (head.upgrade && head.has_body()) return {400, "an upgrade request must not have a body"};

    std::string_view target = head.target;
    if (!target_characters_ok(target)) return {400, "invalid characters in the request target"};
    if (target == "*") {
        if (head.method != "OPTIONS") return {400, "'*' is a target for OPTIONS only"};
        return {};
    }
    if (target.starts_with('/')) return {};
    std::string_view authority, rest;
    if (!split_absolute_form(target, authority, rest) || !is_valid_authority(authority))
        return {400, "invalid request target"};
    return {};
}

Rejection normalize_request_target(MessageHead& head) {
    std::string_view target = head.target;
    if (target == "*") return {};
    if (!target.starts_with('/')) {
        // Absolute form: RFC 9112 3.2.2 says its authority wins over Host.
        std::string_view authority, rest;
        if (!split_absolute_form(target, authority, rest)) return {400, "invalid request target"};
        std::string origin;
        origin.reserve(rest.size() + 1);
        if (rest.empty() || rest.front() == '?') origin.push_back('/');
        origin.append(rest.data(), rest.size());
        if (std::string* host = find_mutable(head, "host")) {
            host->assign(authority);
        } else {
            head.headers.emplace_back("Host", std::string(authority));
        }
        head.target = std::move(origin);
        target = head.target;
    }
    size_t query = target.find('?');
    std::string_view path = target.substr(0, query);
    if (!path_needs_normalizing(path)) return {};
    std::string normalized;
    if (!normalize_path(path, normalized))
        return {400, "request path is malformed or leads above the root"};
    if (query != std::string_view::npos) normalized.append(target.substr(query));
    head.target = std::move(normalized);
    return {};
}

bool is_untrusted_request_header(std::string_view name) {
    if (std::memchr(name.data(), '_', name.size()) != nullptr) return true;
    if (name.size() < 15 || (name[0] != 'x' && name[0] != 'X')) return false;
    return iequals(name, "x-forwarded-for") || iequals(name, "x-forwarded-proto") ||
           iequals(name, "x-forwarded-host");
}

}  // namespace passenger::http

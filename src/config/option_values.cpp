#include "config/option_values.hpp"

#include <fmt/format.h>

#include <charconv>

namespace passenger::config {
namespace {

bool parse_whole_number(std::string_view text, long long& value) {
    if (text.empty()) return false;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    return error == std::errc() && end == text.data() + text.size();
}

bool is_variable_name(std::string_view name) {
    if (name.empty() || (name[0] >= '0' && name[0] <= '9')) return false;
    for (char c : name) {
        bool ok =
            (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        if (!ok) return false;
    }
    return true;
}

}  // namespace

ParsedValue<int> parse_port(std::string_view text) {
    long long value = 0;
    if (!parse_whole_number(text, value) || value < 1 || value > 65535)
        return fmt::format("'{}' is not a port number (1-65535)", text);
    return static_cast<int>(value);
}

ParsedValue<int> parse_int_in_range(std::string_view text, int min, int max,
                                    std::string_view what) {
    long long value = 0;
    if (!parse_whole_number(text, value) || value < min || value > max)
        return fmt::format("'{}' is not {}", text, what);
    return static_cast<int>(value);
}

ParsedValue<uint64_t> parse_size(std::string_view text, uint64_t min, uint64_t max) {
    auto invalid = [&] {
        return fmt::format(
            "'{}' is not a size from {} to {} bytes (a number with an optional "
            "k, m or g suffix)",
            text, min, max);
    };
    std::string_view digits = text;
    int shift = 0;
    if (!digits.empty()) {
        switch (digits.back()) {
            case 'k':
            case 'K':
                shift = 10;
                break;
            case 'm':
            case 'M':
                shift = 20;
                break;
            case 'g':
            case 'G':
                shift = 30;
                break;
            default:
                break;
        }
        if (shift != 0) digits.remove_suffix(1);
    }
    uint64_t value = 0;
    if (digits.empty()) return invalid();
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size()) return invalid();
    if (value > (max >> shift)) return invalid();
    value <<= shift;
    if (value < min || value > max) return invalid();
    return value;
}

ParsedValue<std::pair<std::string, std::string>> parse_envvar(std::string_view text) {
    size_t equals = text.find('=');
    if (equals == std::string_view::npos) return fmt::format("'{}' is not NAME=VALUE", text);
    std::string_view name = text.substr(0, equals);
    if (!is_variable_name(name))
        return fmt::format("'{}' is not a valid variable name (letters, digits, _)", name);
    return std::pair{std::string(name), std::string(text.substr(equals + 1))};
}

std::string cookie_name_error(std::string_view text) {
    constexpr std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
    bool ok = !text.empty();
    for (char c : text) {
        if (c <= 0x20 || c >= 0x7f || separators.find(c) != std::string_view::npos) ok = false;
    }
    if (!ok)
        return fmt::format("'{}' is not a cookie name (letters, digits and !#$%&'*+-.^_`|~)", text);
    return {};
}

std::string cookie_attributes_error(std::string_view text) {
    for (char c : text) {
        if ((c < 0x20 && c != '\t') || c >= 0x7f)
            return fmt::format("'{}' has characters a Set-Cookie header cannot carry", text);
    }
    return {};
}

std::string SslProtocols::text() const {
    if (tls1_2 && tls1_3) return "TLSv1.2 TLSv1.3";
    return tls1_2 ? "TLSv1.2" : tls1_3 ? "TLSv1.3" : "";
}

ParsedValue<SslProtocols> parse_ssl_protocols(std::string_view text) {
    SslProtocols protocols;
    size_t start = 0;
    while (start < text.size()) {
        size_t end = text.find(' ', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view word = text.substr(start, end - start);
        start = end + 1;
        if (word.empty()) continue;
        if (word == "TLSv1.2") {
            protocols.tls1_2 = true;
        } else if (word == "TLSv1.3") {
            protocols.tls1_3 = true;
        } else if (word == "TLSv1" || word == "TLSv1.1" || word == "SSLv3" || word == "SSLv2") {
            return std::string(word) +
                   " is not supported (it is insecure); use TLSv1.2 and/or TLSv1.3";
        } else {
            return "unknown protocol '" + std::string(word) +
                   "' (expected TLSv1.2 and/or TLSv1.3, separated by spaces)";
        }
    }
    if (!protocols.tls1_2 && !protocols.tls1_3)
        return std::string("expected TLSv1.2 and/or TLSv1.3, separated by spaces");
    return protocols;
}

}  // namespace passenger::config

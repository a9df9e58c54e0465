// Parsing and validating single option values as users type them (flags now; Passengerfile.json
// and module directives later). Each parser returns the value or a message that says what was
// wrong with the text, without naming the option: the caller knows which option it was.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace passenger::config {

// Either a parsed value or a one-line reason why the text was rejected.
template <typename T>
using ParsedValue = std::variant<T, std::string>;

ParsedValue<int> parse_port(std::string_view text);
// A whole number within [min, max]; `what` names the kind in errors ("a log level (0-4)").
ParsedValue<int> parse_int_in_range(std::string_view text, int min, int max, std::string_view what);
// A size in bytes as nginx writes it: digits with an optional k, m or g suffix (1024-based),
// within [min, max].
ParsedValue<uint64_t> parse_size(std::string_view text, uint64_t min, uint64_t max);
// NAME=VALUE, where NAME is a shell-style variable name; VALUE may be empty or contain '='.
ParsedValue<std::pair<std::string, std::string>> parse_envvar(std::string_view text);
// TLS protocol versions as nginx's ssl_protocols lists them ("TLSv1.2 TLSv1.3"), separated by
// spaces; only TLSv1.2 and TLSv1.3 are offered.
struct SslProtocols {
    bool tls1_2 = false;
    bool tls1_3 = false;
    std::string text() const;  // the canonical list: "TLSv1.2 TLSv1.3"
};
ParsedValue<SslProtocols> parse_ssl_protocols(std::string_view text);
// Checks of text taken as it is: "" when valid, else the reason.
// A cookie name: an RFC 6265 token (visible ASCII except separators such as ; = , and space).
std::string cookie_name_error(std::string_view text);
// Set-Cookie attributes ("SameSite=Lax; Path=/"): printable ASCII, no CR/LF; may be empty.
std::string cookie_attributes_error(std::string_view text);

}  // namespace passenger::config

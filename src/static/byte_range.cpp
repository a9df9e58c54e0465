#include "static/byte_range.hpp"

#include "http/response_head.hpp"

#include <limits>

namespace passenger::static_files {

namespace {

constexpr uint64_t kSaturated = std::numeric_limits<uint64_t>::max();

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

// Parses 1*DIGIT, saturating on overflow (a huge position is still well-formed). False when
// `text` is empty or holds anything but digits.
bool parse_position(std::string_view text, uint64_t& value) {
    if (text.empty()) return false;
    value = 0;
    for (char c : text) {
        if (c < '0' || c > '9') return false;
        uint64_t digit = static_cast<uint64_t>(c - '0');
        value = value > (kSaturated - digit) / 10 ? kSaturated : value * 10 + digit;
    }
    return true;
}

}  // namespace

ByteRange parse_byte_range(std::string_view header, uint64_t size) {
    ByteRange whole;
    constexpr std::string_view kUnit = "bytes=";
    header = trim(header);
    if (header.size() < kUnit.size() || !http::iequals(header.substr(0, kUnit.size()), kUnit))
        return whole;
    std::string_view spec = trim(header.substr(kUnit.size()));
    if (spec.find(',') != std::string_view::npos) return whole;

    size_t dash = spec.find('-');
    if (dash == std::string_view::npos) return whole;
    std::string_view first_text = trim(spec.substr(0, dash));
    std::string_view last_text = trim(spec.substr(dash + 1));

    ByteRange range;
    if (first_text.empty()) {  // suffix range: the last n bytes
        uint64_t suffix = 0;
        if (!parse_position(last_text, suffix)) return whole;
        if (suffix == 0 || size == 0) {
            range.verdict = RangeVerdict::kUnsatisfiable;
            return range;
        }
        range.verdict = RangeVerdict::kSatisfiable;
        range.first = suffix >= size ? 0 : size - suffix;
        range.last = size - 1;
        return range;
    }

    uint64_t first = 0;
    uint64_t last = kSaturated;
    if (!parse_position(first_text, first)) return whole;
    if (!last_text.empty() && !parse_position(last_text, last)) return whole;
    if (last < first) return whole;  // invalid syntax: ignored, per RFC 9110 14.1.1
    if (first >= size) {
        range.verdict = RangeVerdict::kUnsatisfiable;
        return range;
    }
    range.verdict = RangeVerdict::kSatisfiable;
    range.first = first;
    range.last = last >= size ? size - 1 : last;
    return range;
}

}  // namespace passenger::static_files

#include "http/trusted_proxies.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>

#include <charconv>
#include <optional>

namespace passenger::http {
namespace {

// The address as 16 bytes (IPv4 mapped into IPv6), or nothing when the text is not an address.
std::optional<std::array<uint8_t, 16>> address_bytes(std::string_view text) {
    std::string copy(text);
    std::array<uint8_t, 16> bytes{};
    if (copy.find(':') != std::string::npos) {
        if (::inet_pton(AF_INET6, copy.c_str(), bytes.data()) != 1) return std::nullopt;
        return bytes;
    }
    bytes[10] = bytes[11] = 0xff;
    if (::inet_pton(AF_INET, copy.c_str(), bytes.data() + 12) != 1) return std::nullopt;
    return bytes;
}

bool is_ipv4_text(std::string_view text) {
    return text.find(':') == std::string_view::npos;
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

}  // namespace

std::variant<CidrBlock, std::string> parse_cidr(std::string_view text) {
    const size_t slash = text.find('/');
    const std::string_view address = text.substr(0, slash);
    auto bytes = address_bytes(address);
    if (!bytes) return fmt::format("'{}' is not an IPv4 or IPv6 address or CIDR block", text);
    const int offset = is_ipv4_text(address) ? 96 : 0;
    CidrBlock block{*bytes, 128};
    if (slash != std::string_view::npos) {
        std::string_view digits = text.substr(slash + 1);
        int prefix = -1;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), prefix);
        if (digits.empty() || error != std::errc() || end != digits.data() + digits.size() ||
            prefix < 0 || prefix + offset > 128)
            return fmt::format("'{}' has no valid prefix length (IPv4: /0-32, IPv6: /0-128)", text);
        block.prefix_bits = prefix + offset;
    }
    return block;
}

bool cidr_contains(const CidrBlock& block, std::string_view address) {
    auto bytes = address_bytes(trim(address));
    if (!bytes) return false;
    int bits = block.prefix_bits;
    for (size_t i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
        const uint8_t mask = bits >= 8 ? 0xff : static_cast<uint8_t>(0xff << (8 - bits));
        if (((*bytes)[i] & mask) != (block.bytes[i] & mask)) return false;
    }
    return true;
}

TrustedProxies::TrustedProxies(const std::vector<std::string>& cidrs) {
    for (const std::string& text : cidrs) {
        auto parsed = parse_cidr(text);
        if (auto* block = std::get_if<CidrBlock>(&parsed)) blocks_.push_back(*block);
    }
}

bool TrustedProxies::trusts(std::string_view address) const {
    for (const CidrBlock& block : blocks_)
        if (cidr_contains(block, address)) return true;
    return false;
}

std::string TrustedProxies::real_client(std::string_view forwarded_for,
                                        std::string_view peer) const {
    if (!trusts(peer)) return std::string(peer);
    std::string_view rest = forwarded_for;
    std::string_view first;
    while (!rest.empty()) {
        const size_t comma = rest.rfind(',');
        std::string_view hop =
            trim(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        if (!address_bytes(hop)) break;  // garbage in the chain: believe nothing beyond it
        first = hop;
        if (!trusts(hop)) return std::string(hop);
    }
    return first.empty() ? std::string(peer) : std::string(first);
}

}  // namespace passenger::http

// --trusted-proxy: which peers' X-Forwarded-* headers are believed. An address block in CIDR
// notation (IPv4 or IPv6, a bare address being a block of one) and the rule that finds the real
// client in an X-Forwarded-For chain. Pure functions over text, so both are unit-tested alone.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace passenger::http {

// IPv4 blocks are kept as IPv4-mapped IPv6 ones (::ffff:a.b.c.d/96+n), so an IPv4 peer matches
// whether the socket reports it as 10.0.0.1 or as ::ffff:10.0.0.1.
struct CidrBlock {
    std::array<uint8_t, 16> bytes{};
    int prefix_bits = 128;
};

// "10.0.0.0/8", "2001:db8::/32", "127.0.0.1": the block, or why the text is not one.
std::variant<CidrBlock, std::string> parse_cidr(std::string_view text);
// Whether `address` (an IPv4 or IPv6 address as text) lies in `block`; false for non-addresses.
bool cidr_contains(const CidrBlock& block, std::string_view address);

class TrustedProxies {
  public:
    TrustedProxies() = default;
    // The blocks must have been checked (parse_cidr) when the options were read; an invalid one
    // here is skipped.
    explicit TrustedProxies(const std::vector<std::string>& cidrs);

    bool empty() const { return blocks_.empty(); }
    bool trusts(std::string_view address) const;
    // The client a request from `peer` came for: when the peer is trusted, the X-Forwarded-For
    // chain is read from its end, each trusted hop skipped, and the first address not trusted is
    // the client (nginx's real_ip_recursive); a chain of only trusted hops gives its first. An
    // untrusted peer, or no usable chain, gives `peer` itself.
    std::string real_client(std::string_view forwarded_for, std::string_view peer) const;

  private:
    std::vector<CidrBlock> blocks_;
};

}  // namespace passenger::http

#include "http/trusted_proxies.hpp"

#include <gtest/gtest.h>

namespace passenger::http {
namespace {

CidrBlock block(std::string_view text) {
    auto parsed = parse_cidr(text);
    EXPECT_TRUE(std::holds_alternative<CidrBlock>(parsed)) << text;
    return std::get<CidrBlock>(parsed);
}

TEST(Cidr, Ipv4Blocks) {
    EXPECT_TRUE(cidr_contains(block("10.0.0.0/8"), "10.255.1.2"));
    EXPECT_FALSE(cidr_contains(block("10.0.0.0/8"), "11.0.0.1"));
    EXPECT_TRUE(cidr_contains(block("192.168.1.0/23"), "192.168.0.9"));
    EXPECT_FALSE(cidr_contains(block("192.168.1.0/24"), "192.168.0.9"));
    EXPECT_TRUE(cidr_contains(block("127.0.0.1"), "127.0.0.1"));
    EXPECT_FALSE(cidr_contains(block("127.0.0.1"), "127.0.0.2"));
    EXPECT_TRUE(cidr_contains(block("0.0.0.0/0"), "8.8.8.8"));
}

TEST(Cidr, Ipv6BlocksAndMappedIpv4) {
    EXPECT_TRUE(cidr_contains(block("2001:db8::/32"), "2001:db8:1::5"));
    EXPECT_FALSE(cidr_contains(block("2001:db8::/32"), "2001:db9::5"));
    EXPECT_TRUE(cidr_contains(block("::1"), "::1"));
    EXPECT_TRUE(cidr_contains(block("fe80::/10"), "febf::1"));
    EXPECT_FALSE(cidr_contains(block("fe80::/10"), "fec0::1"));
    // An IPv4 peer may be reported in IPv6 form by a dual-stack socket.
    EXPECT_TRUE(cidr_contains(block("10.0.0.0/8"), "::ffff:10.1.2.3"));
    // An IPv4 block never matches a plain IPv6 address, nor /0 of IPv4 all of IPv6.
    EXPECT_FALSE(cidr_contains(block("0.0.0.0/0"), "2001:db8::1"));
    EXPECT_TRUE(cidr_contains(block("::/0"), "2001:db8::1"));
}

TEST(Cidr, NotAnAddressNeverMatches) {
    EXPECT_FALSE(cidr_contains(block("0.0.0.0/0"), "unknown"));
    EXPECT_FALSE(cidr_contains(block("::/0"), ""));
}

TEST(Cidr, RejectsWhatIsNoBlock) {
    for (std::string_view bad : {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "10.0.0.0/8x",
                                 "10.0.0/8", "example.com", "10.0.0.0/-1", "1.2.3.4/ 8"}) {
        auto parsed = parse_cidr(bad);
        ASSERT_TRUE(std::holds_alternative<std::string>(parsed)) << bad;
        EXPECT_NE(std::get<std::string>(parsed).find(std::string(bad)), std::string::npos);
    }
}

TEST(TrustedProxies, RealClientSkipsTrustedHopsFromTheRight) {
    TrustedProxies trusted({"10.0.0.0/8", "::1"});
    EXPECT_EQ(trusted.real_client("203.0.113.5", "10.0.0.1"), "203.0.113.5");
    EXPECT_EQ(trusted.real_client("198.51.100.1, 203.0.113.5, 10.0.0.2", "10.0.0.1"),
              "203.0.113.5");  // the client cannot forge past the first untrusted hop
    EXPECT_EQ(trusted.real_client("10.0.0.3, 10.0.0.2", "::1"), "10.0.0.3");
    EXPECT_EQ(trusted.real_client("", "10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(trusted.real_client("garbage", "10.0.0.1"), "10.0.0.1");
    EXPECT_EQ(trusted.real_client("203.0.113.5, junk", "10.0.0.1"), "10.0.0.1");
    // From a peer that is not trusted the header says nothing.
    EXPECT_EQ(trusted.real_client("203.0.113.5", "192.0.2.1"), "192.0.2.1");
    EXPECT_TRUE(TrustedProxies().empty());
    EXPECT_FALSE(TrustedProxies().trusts("127.0.0.1"));
}

}  // namespace
}  // namespace passenger::http

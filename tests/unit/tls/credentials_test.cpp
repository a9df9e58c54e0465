#include "tls/credentials.hpp"
#include "tls/credentials_channel.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace passenger::tls {
namespace {

namespace fs = std::filesystem;

// A folder with two self-signed EC certificates made by the openssl command (site and other).
class TlsFiles : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        char pattern[] = "/tmp/tls-test-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        for (const char* name : {"site", "other"}) {
            std::string command = fmt::format(
                "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
                "-keyout {0}/{1}.key -out {0}/{1}.crt -days 1 -subj /CN=localhost "
                "-set_serial 0x{2} 2>/dev/null",
                dir_, name, std::string(name) == "site" ? "ABC1" : "ABC2");
            ASSERT_EQ(std::system(command.c_str()), 0) << command;
        }
        std::ofstream(dir_ + "/garbage.pem") << "not PEM at all\n";
    }
    static void TearDownTestSuite() { fs::remove_all(dir_); }

    static std::string path(const std::string& name) { return dir_ + "/" + name; }
    static std::string dir_;
};
std::string TlsFiles::dir_;

TEST_F(TlsFiles, LoadsAMatchingPair) {
    auto loaded = load_credentials(path("site.crt"), path("site.key"));
    ASSERT_TRUE(std::holds_alternative<Credentials>(loaded)) << std::get<std::string>(loaded);
    ContextResult made =
        make_server_context(std::get<Credentials>(loaded), {.tls1_2 = false, .tls1_3 = true});
    ASSERT_TRUE(made.context) << made.error;
    EXPECT_EQ(certificate_serial(made.context), "ABC1");
    EXPECT_EQ(SSL_CTX_get_min_proto_version(made.context.get()), TLS1_3_VERSION);
}

TEST_F(TlsFiles, EachBadFileIsNamedWithItsOption) {
    auto error = [](const std::string& certificate, const std::string& key) {
        auto loaded = load_credentials(certificate, key);
        return std::holds_alternative<std::string>(loaded) ? std::get<std::string>(loaded) : "";
    };
    EXPECT_EQ(error(path("missing.crt"), path("site.key")),
              fmt::format("--ssl-certificate {}: No such file or directory", path("missing.crt")));
    EXPECT_EQ(
        error(path("site.crt"), path("missing.key")),
        fmt::format("--ssl-certificate-key {}: No such file or directory", path("missing.key")));
    EXPECT_TRUE(error(path("garbage.pem"), path("site.key"))
                    .starts_with(fmt::format("--ssl-certificate {}: not a PEM certificate",
                                             path("garbage.pem"))));
    EXPECT_TRUE(error(path("site.crt"), path("garbage.pem"))
                    .starts_with(fmt::format("--ssl-certificate-key {}: not a PEM private key",
                                             path("garbage.pem"))));
    // A certificate given as the key is no key either.
    EXPECT_TRUE(error(path("site.crt"), path("site.crt")).starts_with("--ssl-certificate-key "));
    EXPECT_EQ(error(path("site.crt"), path("other.key")),
              fmt::format("--ssl-certificate-key {}: does not match the certificate in {}",
                          path("other.key"), path("site.crt")));
    EXPECT_EQ(error(dir_, path("site.key")),
              fmt::format("--ssl-certificate {} is not a regular file", dir_));
}

TEST_F(TlsFiles, TheChannelCarriesAPairIntact) {
    auto loaded = load_credentials(path("site.crt"), path("site.key"));
    ASSERT_TRUE(std::holds_alternative<Credentials>(loaded));
    const Credentials& sent = std::get<Credentials>(loaded);
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair), 0);
    EXPECT_EQ(send_credentials(pair[0], sent), "");
    EXPECT_EQ(send_credentials(pair[0], sent), "");
    for (int i = 0; i < 2; ++i) {
        auto received = receive_credentials(pair[1]);
        ASSERT_TRUE(std::holds_alternative<Credentials>(received));
        EXPECT_EQ(std::get<Credentials>(received).certificate_pem, sent.certificate_pem);
        EXPECT_EQ(std::get<Credentials>(received).key_pem, sent.key_pem);
    }
    // A refused reload carries its reason, and a pair after it still arrives whole.
    EXPECT_EQ(send_refused_reload(pair[0], "--ssl-certificate-key /k: not a PEM private key"), "");
    EXPECT_EQ(send_credentials(pair[0], sent), "");
    auto refused = receive_credentials(pair[1]);
    ASSERT_TRUE(std::holds_alternative<RefusedReload>(refused));
    EXPECT_EQ(std::get<RefusedReload>(refused).reason,
              "--ssl-certificate-key /k: not a PEM private key");
    auto after = receive_credentials(pair[1]);
    ASSERT_TRUE(std::holds_alternative<Credentials>(after));
    EXPECT_EQ(std::get<Credentials>(after).key_pem, sent.key_pem);
    ::close(pair[0]);
    auto end = receive_credentials(pair[1]);
    ASSERT_TRUE(std::holds_alternative<ChannelEnd>(end));
    EXPECT_EQ(std::get<ChannelEnd>(end), ChannelEnd::closed);
    ::close(pair[1]);
}

}  // namespace
}  // namespace passenger::tls

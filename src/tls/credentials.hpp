// A TLS certificate (with its chain) and private key, as PEM text, and the server-side OpenSSL
// context made from them. The watchdog reads the files (as root, before anyone drops privileges)
// and hands the text to the core (tls/credentials_channel.hpp); the core makes the context.
#pragma once

#include "config/option_values.hpp"

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <variant>

namespace passenger::tls {

struct Credentials {
    std::string certificate_pem;  // the certificate first, then any chain certificates
    std::string key_pem;
};

// What OpenSSL serves new handshakes with. Connections keep a reference to the context their
// handshake used, so swapping it (a reload) leaves them alone.
using ServerContext = std::shared_ptr<SSL_CTX>;

struct ContextResult {
    ServerContext context;      // null on error
    std::string error;          // why, without naming a file
    bool key_at_fault = false;  // the key (rather than the certificate) is what is wrong
};

// The context for `credentials`: TLS 1.2 and/or 1.3 as `protocols` says, modern ciphers only,
// no renegotiation, ALPN h2 and http/1.1.
ContextResult make_server_context(const Credentials& credentials,
                                  const config::SslProtocols& protocols);

// Reads both files (by common/safe_file's rules: root follows no link another user planted) and
// checks that they make a context: PEM, an unencrypted key that matches the certificate. The
// error is one line naming the option and the file ("--ssl-certificate-key /a/b.key: ...").
std::variant<Credentials, std::string> load_credentials(const std::string& certificate_path,
                                                        const std::string& key_path);

// The certificate's serial number in hex, for log lines ("" when there is none).
std::string certificate_serial(const ServerContext& context);

}  // namespace passenger::tls

#include "tls/credentials.hpp"

#include "common/safe_file.hpp"

#include <fmt/format.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::tls {
namespace {

// Certificates and keys are a few kilobytes; a chain of a dozen is still far below this.
constexpr size_t max_file_size = 1024 * 1024;

// Mozilla's "intermediate" TLS 1.2 suites (TLS 1.3 has its own, all modern).
constexpr const char* tls12_ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;
using Certificate = std::unique_ptr<X509, decltype(&X509_free)>;
using PrivateKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Bio memory_bio(const std::string& text) {
    return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
}

// OpenSSL's last error in words, clearing its error queue.
std::string openssl_reason(std::string_view fallback) {
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) return std::string(fallback);
    const char* reason = ERR_reason_error_string(code);
    return reason ? fmt::format("{} ({})", fallback, reason) : std::string(fallback);
}

// An encrypted key would make OpenSSL ask for a passphrase on the terminal: refuse it instead.
int no_passphrase(char*, int, int, void*) {
    return -1;
}

// h2 when the client offers it, else HTTP/1.1 (a client that offers neither gets no ALPN
// answer and speaks HTTP/1.1).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void*) {
    static const unsigned char ours[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    unsigned char* selected = nullptr;
    if (SSL_select_next_proto(&selected, out_length, ours, sizeof ours, in, in_length) !=
        OPENSSL_NPN_NEGOTIATED)
        return SSL_TLSEXT_ERR_NOACK;
    *out = selected;
    return SSL_TLSEXT_ERR_OK;
}

struct FileText {
    std::string text;
    std::string error;  // "" when read
};

FileText read_file(const std::string& path) {
    safe_file::OpenedFile file = safe_file::open_file(path, safe_file::Access::read);
    if (!file.ok()) return {.text = {}, .error = file.error};
    if (!S_ISREG(file.info.st_mode)) return {.text = {}, .error = "is not a regular file"};
    FileText result;
    char buffer[16384];
    ssize_t length = 0;
    while ((length = ::read(file.fd.get(), buffer, sizeof buffer)) > 0) {
        result.text.append(buffer, static_cast<size_t>(length));
        if (result.text.size() > max_file_size)
            return {.text = {}, .error = "is larger than 1 MiB"};
    }
    if (length < 0) return {.text = {}, .error = std::strerror(errno)};
    return result;
}

bool set_protocols(SSL_CTX* context, const config::SslProtocols& protocols) {
    int min = protocols.tls1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
    int max = protocols.tls1_3 ? TLS1_3_VERSION : TLS1_2_VERSION;
    return SSL_CTX_set_min_proto_version(context, min) == 1 &&
           SSL_CTX_set_max_proto_version(context, max) == 1;
}

}  // namespace

ContextResult make_server_context(const Credentials& credentials,
                                  const config::SslProtocols& protocols) {
    ERR_clear_error();
    ContextResult result;
    ServerContext context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!context || !set_protocols(context.get(), protocols) ||
        SSL_CTX_set_cipher_list(context.get(), tls12_ciphers) != 1) {
        result.error = openssl_reason("cannot set up TLS");
        return result;
    }
    SSL_CTX_set_options(context.get(), SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_COMPRESSION);
    // Idle connections give their read and write buffers back; writes may be partial and retried
    // from a moved buffer, as the connection's non-blocking loop does.
    SSL_CTX_set_mode(context.get(), SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                                        SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // One read(2) takes whatever the client sent (up to a record's size): without read-ahead
    // OpenSSL reads each record's 5-byte header and then its body, two syscalls a record, nine
    // per HTTPS connection. The readiness checks know about bytes read ahead
    // (TlsSocket::has_unread_input).
    SSL_CTX_set_read_ahead(context.get(), 1);
    SSL_CTX_set_alpn_select_cb(context.get(), select_alpn, nullptr);

    Bio certificates = memory_bio(credentials.certificate_pem);
    Certificate leaf(PEM_read_bio_X509_AUX(certificates.get(), nullptr, no_passphrase, nullptr),
                     X509_free);
    if (!leaf || SSL_CTX_use_certificate(context.get(), leaf.get()) != 1) {
        result.error = openssl_reason("not a PEM certificate");
        return result;
    }
    // The rest of the file is the chain, in order; a file that ends after the leaf has none.
    while (X509* chain = PEM_read_bio_X509(certificates.get(), nullptr, no_passphrase, nullptr)) {
        if (SSL_CTX_add0_chain_cert(context.get(), chain) != 1) {
            X509_free(chain);
            result.error = openssl_reason("a chain certificate cannot be used");
            return result;
        }
    }
    ERR_clear_error();  // the end of the file ends the loop with an error entry

    Bio key_text = memory_bio(credentials.key_pem);
    PrivateKey key(PEM_read_bio_PrivateKey(key_text.get(), nullptr, no_passphrase, nullptr),
                   EVP_PKEY_free);
    result.key_at_fault = true;
    if (!key) {
        result.error = openssl_reason("not a PEM private key, or an encrypted one");
        return result;
    }
    if (SSL_CTX_use_PrivateKey(context.get(), key.get()) != 1 ||
        SSL_CTX_check_private_key(context.get()) != 1) {
        ERR_clear_error();
        result.error = "does not match the certificate";
        return result;
    }
    result.key_at_fault = false;
    result.context = std::move(context);
    return result;
}

std::variant<Credentials, std::string> load_credentials(const std::string& certificate_path,
                                                        const std::string& key_path) {
    Credentials credentials;
    FileText certificate = read_file(certificate_path);
    if (!certificate.error.empty())
        return safe_file::describe("--ssl-certificate", certificate_path, certificate.error);
    credentials.certificate_pem = std::move(certificate.text);
    FileText key = read_file(key_path);
    if (!key.error.empty())
        return safe_file::describe("--ssl-certificate-key", key_path, key.error);
    credentials.key_pem = std::move(key.text);

    ContextResult made = make_server_context(credentials, {.tls1_2 = true, .tls1_3 = true});
    if (!made.context) {
        if (!made.key_at_fault)
            return fmt::format("--ssl-certificate {}: {}", certificate_path, made.error);
        if (made.error == "does not match the certificate")
            return fmt::format("--ssl-certificate-key {}: does not match the certificate in {}",
                               key_path, certificate_path);
        return fmt::format("--ssl-certificate-key {}: {}", key_path, made.error);
    }
    return credentials;
}

std::string certificate_serial(const ServerContext& context) {
    X509* leaf = context ? SSL_CTX_get0_certificate(context.get()) : nullptr;
    if (leaf == nullptr) return {};
    std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
        ASN1_INTEGER_to_BN(X509_get0_serialNumber(leaf), nullptr), BN_free);
    if (!serial) return {};
    char* hex = BN_bn2hex(serial.get());
    std::string text = hex ? hex : "";
    OPENSSL_free(hex);
    return text;
}

}  // namespace passenger::tls

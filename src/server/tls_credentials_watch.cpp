#include "server/tls_credentials_watch.hpp"

#include "common/log.hpp"
#include "tls/credentials_channel.hpp"

#include <openssl/crypto.h>

namespace passenger::server {

TlsCredentialsWatch::TlsCredentialsWatch(asio::io_context& io, int channel_fd, Server& server,
                                         config::SslProtocols protocols)
    : channel_(io, channel_fd), server_(server), protocols_(protocols) {}

TlsCredentialsWatch::Received TlsCredentialsWatch::receive() {
    auto received = tls::receive_credentials(channel_.native_handle());
    if (auto* error = std::get_if<std::string>(&received)) return *error;
    if (auto* refused = std::get_if<tls::RefusedReload>(&received)) return *refused;
    if (auto* end = std::get_if<tls::ChannelEnd>(&received)) return *end;
    tls::Credentials& credentials = std::get<tls::Credentials>(received);
    tls::ContextResult made = tls::make_server_context(credentials, protocols_);
    OPENSSL_cleanse(credentials.key_pem.data(), credentials.key_pem.size());
    if (!made.context) return made.error;
    return std::move(made.context);
}

std::string TlsCredentialsWatch::receive_first(int tls_listen_fd) {
    auto received = receive();  // the channel is blocking until watch() starts
    auto* context = std::get_if<tls::ServerContext>(&received);
    if (context == nullptr) {
        auto* error = std::get_if<std::string>(&received);
        return "Cannot set up TLS: " + (error ? *error : std::string("no credentials came"));
    }
    admin::TlsStatus& status = server_.tls_status();
    status.serving = true;
    status.certificate_serial = tls::certificate_serial(*context);
    log::notice("Serving HTTPS with the certificate with serial {}", status.certificate_serial);
    server_.serve_tls(std::move(*context), tls_listen_fd);
    return {};
}

void TlsCredentialsWatch::watch() {
    channel_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const asio::error_code& error) {
                            if (error) return;
                            Received received = receive();
                            if (auto* end = std::get_if<tls::ChannelEnd>(&received)) {
                                // Closed: the watchdog is gone; PR_SET_PDEATHSIG follows.
                                if (*end == tls::ChannelEnd::closed) return;
                            } else {
                                on_reload(std::move(received));
                            }
                            watch();
                        });
}

// A reload the watchdog read (a new context) or could not read (its reason), or one this process
// could not apply: what the log and GET /tls (passenger-config reload-ssl) say.
void TlsCredentialsWatch::on_reload(Received received) {
    admin::TlsStatus& status = server_.tls_status();
    ++status.reloads;
    if (auto* context = std::get_if<tls::ServerContext>(&received)) {
        status.certificate_serial = tls::certificate_serial(*context);
        status.last_reload_error.clear();
        log::notice(
            "Reloaded the TLS certificate and key: new connections get the certificate with "
            "serial {}",
            status.certificate_serial);
        server_.set_tls_context(std::move(*context));
        return;
    }
    if (auto* refused = std::get_if<tls::RefusedReload>(&received)) {
        status.last_reload_error = refused->reason;  // the watchdog logged it
        return;
    }
    status.last_reload_error = std::get<std::string>(received);
    log::error("Cannot reload the TLS certificate and key: {}", status.last_reload_error);
}

}  // namespace passenger::server

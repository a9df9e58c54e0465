#include "server/tls_credentials_watch.hpp"

#include "common/log.hpp"
#include "tls/credentials_channel.hpp"

#include <openssl/crypto.h>

namespace passenger::server {

TlsCredentialsWatch::TlsCredentialsWatch(asio::io_context& io, int channel_fd, Server& server,
                                         config::SslProtocols protocols)
    : channel_(io, channel_fd), server_(server), protocols_(protocols) {}

std::variant<tls::ServerContext, std::string> TlsCredentialsWatch::receive() {
    auto received = tls::receive_credentials(channel_.native_handle());
    if (auto* error = std::get_if<std::string>(&received)) return *error;
    if (auto* end = std::get_if<tls::ChannelEnd>(&received))
        return std::string(*end == tls::ChannelEnd::closed ? "the channel closed" : "");
    tls::Credentials& credentials = std::get<tls::Credentials>(received);
    tls::ContextResult made = tls::make_server_context(credentials, protocols_);
    OPENSSL_cleanse(credentials.key_pem.data(), credentials.key_pem.size());
    if (!made.context) return made.error;
    return std::move(made.context);
}

std::string TlsCredentialsWatch::receive_first(int tls_listen_fd) {
    auto received = receive();  // the channel is blocking until watch() starts
    if (auto* error = std::get_if<std::string>(&received)) return "Cannot set up TLS: " + *error;
    auto& context = std::get<tls::ServerContext>(received);
    log::notice("Serving HTTPS with the certificate with serial {}",
                tls::certificate_serial(context));
    server_.serve_tls(std::move(context), tls_listen_fd);
    return {};
}

void TlsCredentialsWatch::watch() {
    channel_.async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const asio::error_code& error) {
                            if (error) return;
                            auto received = receive();
                            if (auto* context = std::get_if<tls::ServerContext>(&received)) {
                                log::notice(
                                    "Reloaded the TLS certificate and key: new connections get "
                                    "the certificate with serial {}",
                                    tls::certificate_serial(*context));
                                server_.set_tls_context(std::move(*context));
                            } else if (std::get<std::string>(received) == "the channel closed") {
                                return;  // the watchdog is gone; PR_SET_PDEATHSIG follows
                            } else if (!std::get<std::string>(received).empty()) {
                                log::error("Cannot reload the TLS certificate and key: {}",
                                           std::get<std::string>(received));
                            }
                            watch();
                        });
}

}  // namespace passenger::server

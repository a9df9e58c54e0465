// The core's end of the TLS credentials channel (tls/credentials_channel.hpp): the first
// handover at start, then one per reload (the watchdog's SIGHUP), each turned into the context
// new handshakes use, or its refusal (files that did not load: the pair in use stays). Each
// outcome is kept in the admin API's TlsStatus. Connections in flight keep their context.
#pragma once

#include "config/option_values.hpp"
#include "server/server.hpp"
#include "tls/credentials_channel.hpp"

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <string>
#include <variant>

namespace passenger::server {

class TlsCredentialsWatch {
  public:
    TlsCredentialsWatch(asio::io_context& io, int channel_fd, Server& server,
                        config::SslProtocols protocols);

    // Waits for the first handover and gives the server its context; "" or why not.
    std::string receive_first(int tls_listen_fd);
    // Applies later handovers as they come.
    void watch();

  private:
    // The next handover's context, a refused reload, the channel's end (or nothing after all),
    // or why what came cannot be used.
    using Received =
        std::variant<tls::ServerContext, tls::RefusedReload, tls::ChannelEnd, std::string>;
    Received receive();
    void on_reload(Received received);

    asio::posix::stream_descriptor channel_;
    Server& server_;
    config::SslProtocols protocols_;
};

}  // namespace passenger::server

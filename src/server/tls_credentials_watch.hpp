// The core's end of the TLS credentials channel (tls/credentials_channel.hpp): the first
// handover at start, then one per reload (the watchdog's SIGHUP), each turned into the context
// new handshakes use. Connections in flight keep theirs.
#pragma once

#include "config/option_values.hpp"
#include "server/server.hpp"

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
    // The next handover's context, or why there is none ("" when nothing came after all).
    std::variant<tls::ServerContext, std::string> receive();

    asio::posix::stream_descriptor channel_;
    Server& server_;
    config::SslProtocols protocols_;
};

}  // namespace passenger::server

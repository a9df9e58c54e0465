// The core's side of the channel from the nginx module (src/integrations/README.md, version 3):
// each request on a (kept-alive) connection starts with two length-prefixed blocks, the
// location's settings and the request's fields, then the HTTP request. Only nginx's workers (and
// root) can open the socket, and a client controls nothing before the request line, so no client
// header can pass for a setting.
#pragma once

#include "config/module_configuration.hpp"
#include "config/module_settings.hpp"
#include "config/options.hpp"
#include "http/message_reader.hpp"
#include "server/integration_apps.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <string>

namespace passenger::server {

struct ChannelPreamble {
    std::string settings_block;  // as sent: the key of the app in IntegrationApps
    config::RequestFields fields;
    // A configuration connection (config::kConfigurationMarker) carries this instead, and no
    // request: the watchdog relays nginx's configuration message.
    bool is_configuration = false;
    std::string configuration;
};

// Limits: a settings block beyond this is refused (nginx configurations stay far below).
inline constexpr size_t kMaxSettingsBlock = 256 * 1024;
inline constexpr size_t kMaxRequestFields = 4 * 1024;

using ChannelReader = http::MessageReader<asio::ip::tcp::socket>;

// Reads the two blocks (or a configuration message) before each request head, through the reader of
// the connection's requests: the preamble and the request head usually arrive together and take one
// read, and what follows the preamble stays buffered for read_head(). Returns "" or why the
// preamble is unusable ("closed" when the peer sent nothing).
asio::awaitable<std::string> read_channel_preamble(ChannelReader& reader,
                                                   ChannelPreamble& preamble);

}  // namespace passenger::server

#include "server/integration_channel.hpp"

#include <cstdint>
#include <variant>

namespace passenger::server {
namespace {

uint32_t big_endian_length(const char* text) {
    const auto* bytes = reinterpret_cast<const unsigned char*>(text);
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
           uint32_t(bytes[3]);
}

}  // namespace

asio::awaitable<std::string> read_channel_preamble(ChannelReader& reader,
                                                   ChannelPreamble& preamble) {
    // Whatever is there already comes in one read, without waiting (usually everything).
    if (!co_await reader.wait_readable())
        co_return reader.last_error() ? "the settings block is truncated" : "closed";
    char length[4];
    if (!co_await reader.read_raw(length)) co_return "the settings block is truncated";
    uint32_t settings_length = big_endian_length(length);
    if (settings_length == config::kConfigurationMarker) {
        if (!co_await reader.read_raw(length)) co_return "the configuration message is truncated";
        uint32_t configuration_length = big_endian_length(length);
        if (configuration_length > config::kMaxConfiguration)
            co_return "the configuration message is too large";
        preamble.is_configuration = true;
        preamble.configuration.resize(configuration_length);
        if (!co_await reader.read_raw(preamble.configuration))
            co_return "the configuration message is truncated";
        co_return "";
    }
    if (settings_length > kMaxSettingsBlock) co_return "the settings block is too large";

    std::string& settings = preamble.settings_block;
    settings.resize(settings_length);
    if (!co_await reader.read_raw(settings) || !co_await reader.read_raw(length))
        co_return "the settings block is truncated";
    uint32_t fields_length = big_endian_length(length);
    if (fields_length > kMaxRequestFields) co_return "the request fields are too large";

    std::string fields(fields_length, '\0');
    if (!co_await reader.read_raw(fields)) co_return "the request fields are truncated";
    auto parsed = config::parse_request_fields(fields);
    if (auto* reason = std::get_if<std::string>(&parsed)) co_return "request fields: " + *reason;
    preamble.fields = std::move(std::get<config::RequestFields>(parsed));
    co_return "";
}

}  // namespace passenger::server

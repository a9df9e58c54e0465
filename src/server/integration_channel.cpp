#include "server/integration_channel.hpp"

#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <cstdint>
#include <variant>

namespace passenger::server {
namespace {

uint32_t big_endian_length(const unsigned char* bytes) {
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
           uint32_t(bytes[3]);
}

}  // namespace

asio::awaitable<std::string> read_channel_preamble(asio::ip::tcp::socket& socket,
                                                   ChannelPreamble& preamble) {
    asio::error_code error;
    auto token = asio::redirect_error(asio::use_awaitable, error);
    unsigned char length[4];
    co_await asio::async_read(socket, asio::buffer(length), token);
    if (error) co_return error == asio::error::eof ? "closed" : "the settings block is truncated";
    uint32_t settings_length = big_endian_length(length);
    if (settings_length == config::kConfigurationMarker) {
        co_await asio::async_read(socket, asio::buffer(length), token);
        if (error) co_return "the configuration message is truncated";
        uint32_t configuration_length = big_endian_length(length);
        if (configuration_length > config::kMaxConfiguration)
            co_return "the configuration message is too large";
        preamble.is_configuration = true;
        preamble.configuration.resize(configuration_length);
        co_await asio::async_read(socket, asio::buffer(preamble.configuration), token);
        if (error) co_return "the configuration message is truncated";
        co_return "";
    }
    if (settings_length > kMaxSettingsBlock) co_return "the settings block is too large";

    // The settings and the next length in one read.
    std::string& settings = preamble.settings_block;
    settings.resize(settings_length + 4);
    co_await asio::async_read(socket, asio::buffer(settings), token);
    if (error) co_return "the settings block is truncated";
    uint32_t fields_length = big_endian_length(
        reinterpret_cast<const unsigned char*>(settings.data()) + settings_length);
    settings.resize(settings_length);
    if (fields_length > kMaxRequestFields) co_return "the request fields are too large";

    std::string fields(fields_length, '\0');
    co_await asio::async_read(socket, asio::buffer(fields), token);
    if (error) co_return "the request fields are truncated";
    auto parsed = config::parse_request_fields(fields);
    if (auto* reason = std::get_if<std::string>(&parsed)) co_return "request fields: " + *reason;
    preamble.fields = std::move(std::get<config::RequestFields>(parsed));
    co_return "";
}

}  // namespace passenger::server

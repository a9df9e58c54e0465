#include "server/integration_channel.hpp"

#include "../socket_pair.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

std::string with_length(const std::string& block) {
    const auto length = static_cast<uint32_t>(block.size());
    std::string out{char(length >> 24), char(length >> 16), char(length >> 8), char(length)};
    return out + block;
}

const std::string settings = std::string("app_root\0/srv/app\0environment\0production\0", 41);
const std::string fields = std::string(
    "client_address\0"
    "10.0.0.7\0https\0on\0",
    33);
const std::string request = "GET /after HTTP/1.0\r\nHost: a\r\n\r\n";

struct PreambleOutcome {
    std::string error;
    ChannelPreamble preamble;
    std::string target;  // of the request head read after the preamble, or why not
};

// Reads the preamble, then the request head, on the near side; `meanwhile` may write later.
PreambleOutcome read_preamble_then_head(testing::SocketPair& pair, ChannelReader& reader,
                                        const std::function<void()>& meanwhile = {}) {
    PreambleOutcome outcome;
    bool done = false;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            outcome.error = co_await read_channel_preamble(reader, outcome.preamble);
            if (outcome.error.empty() && !outcome.preamble.is_configuration) {
                http::ReadStatus status = co_await reader.read_head();
                outcome.target = status == http::ReadStatus::ok ? reader.head().target : "<none>";
            }
            done = true;
        },
        asio::detached);
    if (meanwhile) meanwhile();
    pair.io.run_for(2s);
    if (!done) outcome.error = "<still waiting>";
    return outcome;
}

TEST(IntegrationChannel, PreambleAndRequestInOneWriteLeaveTheHeadBuffered) {
    testing::SocketPair pair;
    ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
    asio::write(pair.far, asio::buffer(with_length(settings) + with_length(fields) + request));
    pair.far.shutdown(asio::ip::tcp::socket::shutdown_send);
    PreambleOutcome outcome = read_preamble_then_head(pair, reader);
    EXPECT_EQ(outcome.error, "");
    EXPECT_EQ(outcome.preamble.settings_block, settings);
    EXPECT_EQ(outcome.preamble.fields.client_address, "10.0.0.7");
    EXPECT_TRUE(outcome.preamble.fields.https);
    EXPECT_EQ(outcome.target, "/after");
}

TEST(IntegrationChannel, PreambleInPiecesIsReassembled) {
    testing::SocketPair pair;
    ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
    const std::string bytes = with_length(settings) + with_length(fields) + request;
    // The first 2 bytes now, the rest in 3-byte pieces every millisecond.
    asio::write(pair.far, asio::buffer(bytes.substr(0, 2)));
    asio::steady_timer timer(pair.io);
    size_t sent = 2;
    std::function<void()> send_next = [&] {
        timer.expires_after(1ms);
        timer.async_wait([&](const asio::error_code&) {
            asio::write(pair.far, asio::buffer(bytes.substr(sent, 3)));
            sent += 3;
            if (sent < bytes.size()) send_next();
        });
    };
    PreambleOutcome outcome = read_preamble_then_head(pair, reader, send_next);
    EXPECT_EQ(outcome.error, "");
    EXPECT_EQ(outcome.preamble.settings_block, settings);
    EXPECT_EQ(outcome.preamble.fields.client_address, "10.0.0.7");
    EXPECT_EQ(outcome.target, "/after");
}

TEST(IntegrationChannel, AConfigurationMessageCarriesNoRequest) {
    testing::SocketPair pair;
    ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
    asio::write(pair.far, asio::buffer(std::string("\xff\xff\xff\xff", 4) + with_length("abc")));
    PreambleOutcome outcome = read_preamble_then_head(pair, reader);
    EXPECT_EQ(outcome.error, "");
    EXPECT_TRUE(outcome.preamble.is_configuration);
    EXPECT_EQ(outcome.preamble.configuration, "abc");
}

TEST(IntegrationChannel, NothingSentIsClosedAndAShortBlockIsTruncated) {
    {
        testing::SocketPair pair;
        ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
        pair.far.shutdown(asio::ip::tcp::socket::shutdown_send);
        EXPECT_EQ(read_preamble_then_head(pair, reader).error, "closed");
    }
    {
        testing::SocketPair pair;
        ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
        asio::write(pair.far, asio::buffer(with_length(settings).substr(0, 10)));
        pair.far.shutdown(asio::ip::tcp::socket::shutdown_send);
        EXPECT_EQ(read_preamble_then_head(pair, reader).error, "the settings block is truncated");
    }
    {
        testing::SocketPair pair;
        ChannelReader reader(pair.near, http::MessageParser::Kind::request, 8192);
        asio::write(pair.far,
                    asio::buffer(with_length(settings) + with_length(std::string(5000, 'x'))));
        EXPECT_EQ(read_preamble_then_head(pair, reader).error, "the request fields are too large");
    }
}

}  // namespace
}  // namespace passenger::server

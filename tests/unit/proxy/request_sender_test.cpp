#include "proxy/request_sender.hpp"

#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/read.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace passenger::proxy {
namespace {

using namespace std::chrono_literals;

// A connected Unix socket pair as app connections (spawn::AppSocket), the sending side's
// buffer kept small so a large request does not fit at once.
struct AppSocketPair {
    asio::io_context io;
    spawn::AppSocket near{io};
    spawn::AppSocket far{io};

    AppSocketPair() {
        int fds[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
        const asio::generic::stream_protocol unix_stream(AF_UNIX, SOCK_STREAM);
        near.assign(unix_stream, fds[0]);
        far.assign(unix_stream, fds[1]);
        near.set_option(asio::socket_base::send_buffer_size(16 * 1024));
    }
};

std::string request_sender_pattern(size_t size) {
    std::string out(size, '\0');
    for (size_t i = 0; i < size; ++i) out[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
    return out;
}

TEST(RequestSender, ASmallRequestGoesAtOnceWithoutACoroutine) {
    AppSocketPair pair;
    http::BodyBufferSettings settings;
    settings.directory = "/tmp";
    http::BodyBuffer body(settings);
    std::string bytes = "hello";
    ASSERT_FALSE(body.take(bytes));
    const std::string head = "POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\n";
    size_t written = 0;
    EXPECT_EQ(send_request_now(pair.near, head, body, written), Sending::done);
    EXPECT_EQ(written, head.size() + 5);
    std::string received(written, '\0');
    asio::read(pair.far, asio::buffer(received));
    EXPECT_EQ(received, head + "hello");
}

// The socket takes part of it: the coroutine sends the rest from where the first write stopped.
TEST(RequestSender, WhatTheSocketDidNotTakeFollowsInOrder) {
    AppSocketPair pair;
    http::BodyBufferSettings settings;
    settings.directory = "/tmp";
    settings.memory_limit = 4 << 20;
    http::BodyBuffer body(settings);
    const std::string content = request_sender_pattern(1 << 20);
    std::string bytes = content;
    ASSERT_FALSE(body.take(bytes));
    const std::string head = "POST /big HTTP/1.1\r\nContent-Length: 1048576\r\n\r\n";
    size_t written = 0;
    EXPECT_EQ(send_request_now(pair.near, head, body, written), std::nullopt);
    EXPECT_GT(written, 0u);
    EXPECT_LT(written, head.size() + content.size());

    std::optional<Sending> sending;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            sending = co_await send_buffered_request(pair.near, head, body, written);
        },
        asio::detached);
    std::string received(head.size() + content.size(), '\0');
    std::optional<size_t> read;
    asio::async_read(pair.far, asio::buffer(received),
                     [&](const asio::error_code&, size_t count) { read = count; });
    pair.io.run_for(10s);
    EXPECT_EQ(sending, Sending::done);
    ASSERT_EQ(read, received.size());
    EXPECT_TRUE(received == head + content);
}

TEST(RequestSender, AClosedConnectionFailsBeforeAnyByteLeft) {
    AppSocketPair pair;
    http::BodyBufferSettings settings;
    settings.directory = "/tmp";
    http::BodyBuffer body(settings);
    asio::error_code ignored;
    pair.far.close(ignored);
    size_t written = 0;
    EXPECT_EQ(send_request_now(pair.near, "GET / HTTP/1.1\r\n\r\n", body, written),
              Sending::failed_unsent);
    EXPECT_EQ(written, 0u);
}

}  // namespace
}  // namespace passenger::proxy

#include "http/message_reader.hpp"

#include "../socket_pair.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <optional>

namespace passenger::http {
namespace {

using namespace std::chrono_literals;
using Reader = MessageReader<asio::ip::tcp::socket>;

// Runs wait_readable() then read_head() on the near side; returns the head's target or why not.
// `idle_calls` counts the calls of wait_readable's on_idle.
std::string wait_then_read(testing::SocketPair& pair, Reader& reader,
                           const std::function<void()>& meanwhile = {}, int* idle_calls = nullptr) {
    std::optional<std::string> result;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            if (!co_await reader.wait_readable([&] { idle_calls && ++*idle_calls; })) {
                result = "<not readable>";
                co_return;
            }
            ReadStatus status = co_await reader.read_head();
            result = status == ReadStatus::ok ? reader.head().target : "<bad head>";
        },
        asio::detached);
    if (meanwhile) meanwhile();
    pair.io.run_for(2s);
    return result.value_or("<still waiting>");
}

// Runs `action` on the event loop `delay` from now (a peer that writes or a deadline that fires
// while the reader waits).
std::function<void()> later_on(asio::steady_timer& timer, std::chrono::milliseconds delay,
                               std::function<void()> action) {
    return [&timer, delay, action = std::move(action)] {
        timer.expires_after(delay);
        timer.async_wait([action](const asio::error_code&) { action(); });
    };
}

TEST(MessageReaderWaitReadable, BytesAlreadyThereAreReadAtOnce) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    asio::write(pair.far, asio::buffer(std::string("GET /now HTTP/1.1\r\nHost: a\r\n\r\n")));
    int idle_calls = 0;
    EXPECT_EQ(wait_then_read(pair, reader, {}, &idle_calls), "/now");
    EXPECT_EQ(idle_calls, 0);  // never idle: nothing to free
}

TEST(MessageReaderWaitReadable, CallsOnIdleOnceBeforeItWaits) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    asio::steady_timer later(pair.io);
    int idle_calls = 0;
    auto send_later = [&] {
        later.expires_after(100ms);
        later.async_wait([&](const asio::error_code&) {
            asio::write(pair.far,
                        asio::buffer(std::string("GET /later HTTP/1.1\r\nHost: a\r\n\r\n")));
        });
    };
    EXPECT_EQ(wait_then_read(pair, reader, send_later, &idle_calls), "/later");
    EXPECT_EQ(idle_calls, 1);
}

TEST(MessageReaderWaitReadable, WaitsForBytesThatComeLater) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    asio::steady_timer later(pair.io);
    EXPECT_EQ(wait_then_read(pair, reader,
                             [&] {
                                 later.expires_after(100ms);
                                 later.async_wait([&](const asio::error_code&) {
                                     asio::write(pair.far,
                                                 asio::buffer(std::string(
                                                     "GET /later HTTP/1.1\r\nHost: a\r\n\r\n")));
                                 });
                             }),
              "/later");
}

TEST(MessageReaderWaitReadable, EndsOnEofAndOnCancellation) {
    {
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::request, 8192);
        pair.far.shutdown(asio::ip::tcp::socket::shutdown_send);
        EXPECT_EQ(wait_then_read(pair, reader), "<not readable>");
    }
    {
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::request, 8192);
        asio::steady_timer later(pair.io);
        EXPECT_EQ(wait_then_read(pair, reader,
                                 [&] {
                                     later.expires_after(50ms);
                                     later.async_wait(
                                         [&](const asio::error_code&) { pair.near.cancel(); });
                                 }),
                  "<not readable>");
    }
}

TEST(MessageReaderWaitReadable, KeepAliveRequestsOneAfterAnother) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    for (const char* target : {"/1", "/2", "/3"}) {
        asio::write(pair.far,
                    asio::buffer("GET " + std::string(target) + " HTTP/1.1\r\nHost: a\r\n\r\n"));
        EXPECT_EQ(wait_then_read(pair, reader), target);
        std::string ignored;
        reader.read_buffered_body(ignored);
        EXPECT_TRUE(reader.parser().message_complete());
        reader.next_message();
        pair.io.restart();
    }
}

// The front end parses a head that arrived whole without a coroutine; one that did not is
// continued by read_head(), which counts the bytes parsed before against the head limit.
TEST(MessageReaderBufferedHead, APartialHeadIsContinuedByReadHead) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    asio::write(pair.far, asio::buffer(std::string("GET /split HTTP/1.1\r\n")));
    pair.io.run_for(20ms);
    EXPECT_EQ(reader.readable_now(), true);
    EXPECT_EQ(reader.read_buffered_head(), std::nullopt);
    asio::write(pair.far, asio::buffer(std::string("Host: a\r\n\r\n")));
    std::optional<ReadStatus> status;
    size_t bytes_before_read = 0;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            status = co_await reader.read_head([&](size_t bytes) { bytes_before_read = bytes; });
        },
        asio::detached);
    pair.io.restart();
    pair.io.run_for(100ms);
    ASSERT_EQ(status, ReadStatus::ok);
    EXPECT_EQ(reader.head().target, "/split");
    EXPECT_EQ(bytes_before_read, 21u) << "the request line, parsed without a coroutine";
}

TEST(MessageReaderBufferedHead, TheHeadLimitCountsBothParts) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 40);
    asio::write(pair.far, asio::buffer(std::string("GET /limit HTTP/1.1\r\nHost: a\r\n")));
    pair.io.run_for(20ms);
    EXPECT_EQ(reader.readable_now(), true);
    EXPECT_EQ(reader.read_buffered_head(), std::nullopt);
    asio::write(pair.far, asio::buffer(std::string("Accept: */*\r\n\r\n")));
    std::optional<ReadStatus> status;
    asio::co_spawn(
        pair.io, [&]() -> asio::awaitable<void> { status = co_await reader.read_head(); },
        asio::detached);
    pair.io.restart();
    pair.io.run_for(100ms);
    EXPECT_EQ(status, ReadStatus::too_large);
}

// A reader holds its 16 KiB buffer only while there are bytes to parse: not while it waits for
// the rest of a head, and not after a head that came alone (the buffer goes to the spares).
TEST(MessageReaderBuffer, HeldOnlyWhileBytesAreThere) {
    auto& spares = detail::spare_read_buffers();
    spares.clear();
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    asio::write(pair.far, asio::buffer(std::string("GET /pieces HTTP/1.1\r\n")));
    std::optional<ReadStatus> status;
    asio::co_spawn(
        pair.io, [&]() -> asio::awaitable<void> { status = co_await reader.read_head(); },
        asio::detached);
    pair.io.run_for(50ms);
    EXPECT_FALSE(status.has_value());
    EXPECT_EQ(spares.size(), 1u) << "the buffer went back while the reader waits";

    asio::write(pair.far, asio::buffer(std::string("Host: a\r\n\r\n")));
    pair.io.restart();
    pair.io.run_for(50ms);
    ASSERT_EQ(status, ReadStatus::ok);
    EXPECT_EQ(reader.head().target, "/pieces");
    EXPECT_EQ(spares.size(), 1u) << "nothing came after the head: no buffer kept";
}

// An app's response head waited for by receiving (receive_next_head()): the reader holds only a
// small wait buffer while it waits, and the head and body arrive intact whatever their size.
// `status` is set when read_head() returns (it may still be waiting when this returns).
void receive_head(testing::SocketPair& pair, Reader& reader, std::optional<ReadStatus>& status,
                  std::chrono::milliseconds run_for) {
    reader.receive_next_head();
    asio::co_spawn(
        pair.io, [&]() -> asio::awaitable<void> { status = co_await reader.read_head(); },
        asio::detached);
    pair.io.run_for(run_for);
}

TEST(MessageReaderReceiveHead, WaitsWithASmallBufferThenReadsTheHead) {
    detail::spare_read_buffers().clear();
    detail::spare_wait_buffers().clear();
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::response, 8192);
    int waits = 0;
    reader.on_wait([&] { ++waits; });
    std::optional<ReadStatus> status;
    receive_head(pair, reader, status, 50ms);
    EXPECT_FALSE(status.has_value());
    EXPECT_EQ(waits, 1);
    EXPECT_TRUE(detail::spare_wait_buffers().empty()) << "the wait buffer is the receive's";
    asio::write(pair.far,
                asio::buffer(std::string("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi")));
    pair.io.restart();
    pair.io.run_for(50ms);
    ASSERT_EQ(status, ReadStatus::ok);
    EXPECT_EQ(reader.head().status, 200);
    std::string body;
    EXPECT_EQ(reader.read_buffered_body(body), ReadStatus::ok);
    EXPECT_EQ(body, "hi");
    EXPECT_TRUE(reader.parser().message_complete());
    EXPECT_EQ(detail::spare_wait_buffers().size(), 1u) << "given back after the wait";
}

TEST(MessageReaderReceiveHead, AHeadLongerThanTheWaitBufferArrivesWhole) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::response, 64 * 1024);
    std::string head = "HTTP/1.1 200 OK\r\nX-Long: " + std::string(5000, 'x') +
                       "\r\nX-Last: yes\r\nContent-Length: 0\r\n\r\n";
    asio::write(pair.far, asio::buffer(head));
    std::optional<ReadStatus> status;
    receive_head(pair, reader, status, 100ms);
    ASSERT_EQ(status, ReadStatus::ok);
    ASSERT_NE(reader.head().find("x-last"), nullptr);
    EXPECT_EQ(*reader.head().find("x-last"), "yes");
    EXPECT_EQ(reader.head().find("x-long")->size(), 5000u);
}

TEST(MessageReaderReceiveHead, ALargeBodyArrivesIntact) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::response, 8192);
    std::string body(1024 * 1024, '\0');
    for (size_t i = 0; i < body.size(); ++i)
        body[i] = static_cast<char>('a' + (i * 7 + i / 4099) % 26);
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    asio::async_write(pair.far, asio::buffer(response), [](const asio::error_code&, size_t) {});
    std::string received;
    std::optional<ReadStatus> status;
    reader.receive_next_head();
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            status = co_await reader.read_head();
            if (status != ReadStatus::ok) co_return;
            while (!reader.parser().message_complete()) {
                status = co_await reader.read_body(received);
                if (status != ReadStatus::ok) co_return;
            }
        },
        asio::detached);
    pair.io.run_for(5s);
    ASSERT_EQ(status, ReadStatus::ok);
    EXPECT_TRUE(reader.parser().message_complete());
    EXPECT_EQ(received.size(), body.size());
    EXPECT_TRUE(received == body) << "the body differs";
}

TEST(MessageReaderReceiveHead, EndsOnEofAndOnCancellation) {
    {
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::response, 8192);
        pair.far.shutdown(asio::ip::tcp::socket::shutdown_send);
        std::optional<ReadStatus> status;
        receive_head(pair, reader, status, 100ms);
        EXPECT_EQ(status, ReadStatus::closed);
        EXPECT_FALSE(reader.last_error());
    }
    {
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::response, 8192);
        asio::steady_timer later(pair.io);
        later.expires_after(30ms);
        later.async_wait([&](const asio::error_code&) { pair.near.cancel(); });
        std::optional<ReadStatus> status;
        receive_head(pair, reader, status, 100ms);
        EXPECT_EQ(status, ReadStatus::closed);
        EXPECT_EQ(reader.last_error(), asio::error::operation_aborted);
    }
}

// A client connection's receive left pending while the app works (watch_by_receiving): it
// notices a client that leaves, keeps the bytes of a request pipelined meanwhile for the next
// read, and is itself the connection's wait for its next request.
TEST(MessageReaderWatchByReceiving, BytesPipelinedMeanwhileAreTheNextRequests) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    int ends = 0;
    reader.watch_by_receiving([&] { ++ends; });
    pair.io.run_for(20ms);
    asio::write(pair.far, asio::buffer(std::string("GET /2 HTTP/1.1\r\nHost: a\r\n\r\n"
                                                   "GET /3 HTTP/1.1\r\nHost: a\r\n\r\n")));
    pair.io.restart();
    pair.io.run_for(20ms);
    EXPECT_EQ(ends, 0) << "bytes are not the client leaving";
    reader.stop_watching();
    for (const char* target : {"/2", "/3"}) {
        pair.io.restart();
        EXPECT_EQ(wait_then_read(pair, reader), target);
        std::string ignored;
        reader.read_buffered_body(ignored);
        reader.next_message();
    }
}

TEST(MessageReaderWatchByReceiving, AClientThatLeavesIsReportedOnce) {
    {
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::request, 8192);
        int ends = 0;
        reader.watch_by_receiving([&] { ++ends; });
        pair.io.run_for(20ms);
        EXPECT_EQ(ends, 0);
        pair.far.close();
        pair.io.restart();
        pair.io.run_for(50ms);
        EXPECT_EQ(ends, 1);
        reader.stop_watching();
        pair.io.restart();
        EXPECT_EQ(wait_then_read(pair, reader), "<not readable>");
    }
    {  // it ended while nobody watched: the next watch hears of it, from the event loop
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::request, 8192);
        pair.far.close();
        int ends = 0;
        reader.watch_by_receiving([&] { ++ends; });
        reader.stop_watching();
        pair.io.run_for(20ms);
        EXPECT_EQ(ends, 0);
        reader.watch_by_receiving([&] { ++ends; });  // (forward() tries another process)
        EXPECT_EQ(ends, 0) << "posted, not called inside";
        pair.io.restart();
        pair.io.run_for(20ms);
        EXPECT_EQ(ends, 1);
    }
    {  // stopped: no report
        testing::SocketPair pair;
        Reader reader(pair.near, MessageParser::Kind::request, 8192);
        int ends = 0;
        reader.watch_by_receiving([&] { ++ends; });
        reader.stop_watching();
        pair.far.close();
        pair.io.run_for(50ms);
        EXPECT_EQ(ends, 0);
    }
}

TEST(MessageReaderWatchByReceiving, IsTheIdleWaitAndReadsALongHeadWhole) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    reader.watch_by_receiving([] {});
    reader.stop_watching();
    EXPECT_EQ(reader.readable_now(), std::nullopt) << "nothing yet, and no recv of its own";
    asio::steady_timer later(pair.io);
    std::string request = "GET /next HTTP/1.1\r\nHost: a\r\nX-Pad: " + std::string(3000, 'p') +
                          "\r\n\r\n";  // longer than the wait buffer
    EXPECT_EQ(wait_then_read(
                  pair, reader,
                  later_on(later, 50ms, [&] { asio::write(pair.far, asio::buffer(request)); })),
              "/next");
    EXPECT_EQ(reader.head().find("x-pad")->size(), 3000u);
}

TEST(MessageReaderWatchByReceiving, ACancelledReceiveStartsAgain) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    int ends = 0;
    reader.watch_by_receiving([&] { ++ends; });
    pair.near.cancel();  // a wait of another's (the pool queue's watch) ended with cancel()
    pair.io.run_for(20ms);
    reader.stop_watching();
    reader.watch_by_receiving([&] { ++ends; });
    reader.stop_watching();
    asio::write(pair.far, asio::buffer(std::string("GET /after HTTP/1.1\r\nHost: a\r\n\r\n")));
    pair.io.restart();
    EXPECT_EQ(wait_then_read(pair, reader), "/after");
    EXPECT_EQ(ends, 0);
}

TEST(MessageReaderWatchByReceiving, TheIdleWaitEndsOnCancellation) {
    testing::SocketPair pair;
    Reader reader(pair.near, MessageParser::Kind::request, 8192);
    reader.watch_by_receiving([] {});
    reader.stop_watching();
    asio::steady_timer later(pair.io);
    EXPECT_EQ(wait_then_read(pair, reader, later_on(later, 50ms, [&] { pair.near.cancel(); })),
              "<not readable>");
}

}  // namespace
}  // namespace passenger::http

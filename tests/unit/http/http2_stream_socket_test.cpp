#include "http/http2_stream_socket.hpp"

#include "common/socket_deadline.hpp"
#include "http/message_reader.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>

namespace passenger::http {
namespace {

using namespace std::chrono_literals;

// The session's side, recording what the stream's socket tells it.
struct RecordingStreamOwner final : Http2StreamOwner {
    size_t take_response(std::string_view bytes) override {
        const size_t taken = std::min(bytes.size(), response_room());
        response.append(bytes.substr(0, taken));
        return taken;
    }
    size_t response_room() const override {
        return response.size() >= room ? 0 : room - response.size();
    }
    void end_response() override { ++ends; }
    void request_consumed(size_t data_bytes) override { consumed += data_bytes; }

    size_t room = 64;
    std::string response;
    int ends = 0;
    size_t consumed = 0;
};

struct Http2StreamFixture {
    explicit Http2StreamFixture(bool eof_at_end = false)
        : channel(std::make_shared<Http2StreamChannel>(io.get_executor(), owner,
                                                       "GET / HTTP/1.1\r\n\r\n", eof_at_end)),
          socket(channel) {}
    asio::io_context io;
    RecordingStreamOwner owner;
    std::shared_ptr<Http2StreamChannel> channel;
    Http2StreamSocket socket;
};

TEST(Http2StreamSocket, ReadsTheHeadThenTheBodyAsItArrivesGivingTheWindowBack) {
    Http2StreamFixture stream;
    std::array<char, 64> buffer;
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), 18);
    EXPECT_EQ(std::string_view(buffer.data(), 18), "GET / HTTP/1.1\r\n\r\n");
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(stream.socket.peek_peer(), PeerState::quiet);

    std::string read;
    asio::co_spawn(
        stream.io,
        [&]() -> asio::awaitable<void> {
            asio::error_code error;
            size_t count = co_await stream.socket.async_read_some(
                asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
            read.assign(buffer.data(), count);
        },
        asio::detached);
    stream.io.poll();
    EXPECT_TRUE(read.empty());
    EXPECT_TRUE(stream.channel->deliver("hello", true));
    stream.io.poll();
    EXPECT_EQ(read, "5\r\nhello\r\n");
    EXPECT_EQ(stream.owner.consumed, 5u);  // the DATA, not the framing

    // An h2 request's end is not the client leaving: reads wait on.
    stream.channel->end_request(true);
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), 5);
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(stream.socket.peek_peer(), PeerState::quiet);
}

TEST(Http2StreamSocket, AWebSocketStreamReadsTheRequestsEndAsEof) {
    Http2StreamFixture stream(true);
    std::array<char, 64> buffer;
    stream.socket.receive_now(buffer.data(), buffer.size());
    stream.channel->end_request(false);
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), 0);
    EXPECT_EQ(stream.socket.peek_peer(), PeerState::closed);
}

TEST(Http2StreamSocket, AResetWakesTheWaitAndReadsAsTheClientGone) {
    Http2StreamFixture stream;
    std::array<char, 64> buffer;
    stream.socket.receive_now(buffer.data(), buffer.size());
    stream.channel->deliver("abc", false);
    bool woke = false;
    asio::error_code wait_error = asio::error::would_block;
    stream.socket.async_wait(Http2StreamSocket::wait_read, [&](const asio::error_code& error) {
        woke = true;
        wait_error = error;
    });
    EXPECT_EQ(stream.channel->peer_gone(), 3u);  // unread DATA the caller gives back
    stream.io.poll();
    EXPECT_TRUE(woke);
    EXPECT_FALSE(wait_error);
    EXPECT_EQ(stream.socket.peek_peer(), PeerState::closed);
    EXPECT_EQ(stream.socket.receive_now(buffer.data(), buffer.size()), -1);
    EXPECT_EQ(errno, ECONNRESET);
    asio::error_code error;
    stream.socket.write_some(asio::buffer("x", 1), error);
    EXPECT_EQ(error, asio::error::broken_pipe);
}

TEST(Http2StreamSocket, WritesWaitWhileTheStreamsQueueIsFull) {
    Http2StreamFixture stream;
    stream.owner.room = 4;
    bool written = false;
    asio::co_spawn(
        stream.io,
        [&]() -> asio::awaitable<void> {
            asio::error_code error;
            co_await asio::async_write(stream.socket, asio::buffer("HTTP/1.1", 8),
                                       asio::redirect_error(asio::use_awaitable, error));
            written = !error;
        },
        asio::detached);
    stream.io.poll();
    EXPECT_FALSE(written);
    EXPECT_EQ(stream.owner.response, "HTTP");
    stream.owner.room = 8;
    stream.channel->notify_writable();
    stream.io.poll();
    EXPECT_TRUE(written);
    EXPECT_EQ(stream.owner.response, "HTTP/1.1");

    asio::error_code error;
    stream.socket.shutdown(Http2StreamSocket::shutdown_both, error);
    stream.socket.close(error);
    EXPECT_EQ(stream.owner.ends, 1);  // once, however it ends
}

TEST(Http2StreamSocket, SendsFilePiecesAsRoomAllows) {
    Http2StreamFixture stream;
    stream.owner.room = 6;
    FILE* file = std::tmpfile();
    std::fputs("0123456789", file);
    std::fflush(file);
    off_t offset = 2;
    EXPECT_EQ(stream.socket.send_file_now(fileno(file), &offset, 10), 6);
    EXPECT_EQ(offset, 8);
    EXPECT_EQ(stream.socket.send_file_now(fileno(file), &offset, 2), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_EQ(stream.owner.response, "234567");
    std::fclose(file);
}

TEST(Http2StreamSocket, CloseAbortsWaitsAndGivesUnreadDataBack) {
    Http2StreamFixture stream;
    std::array<char, 64> buffer;
    stream.socket.receive_now(buffer.data(), buffer.size());
    stream.owner.room = 0;
    asio::error_code wait_error;
    stream.socket.async_wait(Http2StreamSocket::wait_write,
                             [&](const asio::error_code& error) { wait_error = error; });
    asio::error_code read_error;
    bool read_done = false;
    stream.socket.async_read_some(asio::buffer(buffer), [&](const asio::error_code& error, size_t) {
        read_error = error;
        read_done = true;
    });
    stream.io.poll();
    EXPECT_FALSE(read_done);
    stream.channel->deliver("abcd", false);
    stream.io.poll();
    EXPECT_TRUE(read_done);
    stream.channel->deliver("efgh", false);
    EXPECT_FALSE(read_error);
    asio::error_code error;
    stream.socket.close(error);
    stream.io.restart();  // the poll above ran out of work, which stops the io_context
    stream.io.poll();
    EXPECT_EQ(wait_error, asio::error::operation_aborted);
    EXPECT_EQ(stream.owner.consumed, 8u);  // 4 read, 4 given back by close()
    EXPECT_FALSE(stream.channel->deliver("more", false));
}

TEST(Http2StreamSocket, ADeadlineCancelsTheStreamsWait) {
    Http2StreamFixture stream;
    std::array<char, 64> buffer;
    stream.socket.receive_now(buffer.data(), buffer.size());
    SocketDeadline deadline(stream.socket, 10ms);
    deadline.expires_after(20ms);
    asio::error_code wait_error;
    bool done = false;
    stream.socket.async_wait(Http2StreamSocket::wait_read, [&](const asio::error_code& error) {
        wait_error = error;
        done = true;
    });
    stream.io.run_for(2s);
    EXPECT_TRUE(done);
    EXPECT_EQ(wait_error, asio::error::operation_aborted);
    EXPECT_TRUE(deadline.expired());
}

TEST(Http2StreamSocket, AMessageReaderReadsTheRequestFromIt) {
    Http2StreamFixture stream;
    MessageReader<Http2StreamSocket> reader(stream.socket, MessageParser::Kind::request, 8192);
    ReadStatus status = ReadStatus::closed;
    asio::co_spawn(
        stream.io, [&]() -> asio::awaitable<void> { status = co_await reader.read_head(); },
        asio::detached);
    stream.io.poll();
    EXPECT_EQ(status, ReadStatus::ok);
    EXPECT_EQ(reader.head().target, "/");
}

}  // namespace
}  // namespace passenger::http

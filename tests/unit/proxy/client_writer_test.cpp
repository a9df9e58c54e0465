#include "proxy/client_writer.hpp"

#include "../socket_pair.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <optional>

namespace passenger::proxy {
namespace {

using namespace std::chrono_literals;

std::string pattern(size_t size, int seed) {
    std::string out(size, '\0');
    for (size_t i = 0; i < size; ++i)
        out[i] = static_cast<char>((i * 131 + seed * 7 + i / 997) & 0xff);
    return out;
}

class ClientWriterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);
        settings_.directory = "/tmp";
        settings_.memory_limit = 64 * 1024;
    }

    // Reads everything from the far side until EOF.
    void start_reader(std::string& into) {
        asio::co_spawn(
            pair_.io,
            [&]() -> asio::awaitable<void> {
                asio::error_code error;
                std::array<char, 65536> buffer;
                for (;;) {
                    size_t n = co_await pair_.far.async_read_some(
                        asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
                    if (error) break;
                    into.append(buffer.data(), n);
                }
            },
            asio::detached);
    }

    // A temp file holding `content`, open for reading (unlinked at once: only the fd names it).
    static int temp_file_with(const std::string& content) {
        char path[] = "/tmp/client-writer-test.XXXXXX";
        int fd = ::mkstemp(path);
        if (fd < 0) return -1;
        ::unlink(path);
        if (::write(fd, content.data(), content.size()) != static_cast<ssize_t>(content.size())) {
            ::close(fd);
            return -1;
        }
        return fd;
    }

    // Runs `operation` (a writer's finish() or send_file(), returning awaitable<bool>), then shuts
    // the sending side; meanwhile, unless `received` is null, a reader collects everything until
    // EOF. Returns the operation's result, nullopt if it did not finish within `timeout`.
    template <typename Operation>
    std::optional<bool> run_to_end(Operation operation, std::string* received,
                                   std::chrono::seconds timeout = 10s) {
        std::optional<bool> result;
        asio::co_spawn(
            pair_.io,
            [&]() -> asio::awaitable<void> {
                result = co_await operation();
                asio::error_code ignored;
                pair_.near.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
            },
            asio::detached);
        if (received != nullptr) start_reader(*received);
        pair_.io.run_for(timeout);
        return result;
    }

    testing::SocketPair pair_{16 * 1024};
    http::BodyBufferSettings settings_;
    SocketDeadline deadline_{pair_.near, 1s};
};

TEST_F(ClientWriterTest, FinishWritesAQueuedResponse) {
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const std::string expected = response;
    writer.queue(response);
    EXPECT_TRUE(response.empty());
    std::string received;
    std::optional<bool> finished = run_to_end([&] { return writer.finish(); }, &received, 5s);
    ASSERT_TRUE(finished.has_value());
    EXPECT_TRUE(*finished);
    EXPECT_EQ(received, expected);
}

// The usual case: a response complete in memory that the socket takes at once needs no
// coroutine, and the writer is idle afterwards.
TEST_F(ClientWriterTest, FinishNowWritesAQueuedResponseThatFitsAtOnce) {
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const std::string expected = response;
    writer.queue(response);
    EXPECT_EQ(writer.finish_now(), true);
    EXPECT_EQ(writer.queued(), 0u);
    std::string received(expected.size(), '\0');
    asio::read(pair_.far, asio::buffer(received));
    EXPECT_EQ(received, expected);
}

// More than the socket takes: finish_now() leaves the rest to finish(), and every byte arrives
// in order.
TEST_F(ClientWriterTest, FinishNowLeavesWhatTheSocketCannotTakeToFinish) {
    settings_.memory_limit = 4 << 20;  // all of it in memory, as a response that came whole
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::string response = pattern(1 << 20, 5);
    const std::string expected = response;
    writer.queue(response);
    EXPECT_EQ(writer.finish_now(), std::nullopt);
    std::string received;
    std::optional<bool> finished = run_to_end([&] { return writer.finish(); }, &received, 5s);
    ASSERT_TRUE(finished.has_value());
    EXPECT_TRUE(*finished);
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

TEST_F(ClientWriterTest, AProducerNeverWaitsForASlowClientAndEveryByteArrivesInOrder) {
    ClientWriter writer(pair_.near, settings_, deadline_, 10s);
    std::string expected;
    // 4 MiB in 40 pieces, while the client reads nothing: far more than the socket buffers
    // and the 64 KiB memory part hold, so most of it waits in the temp file.
    for (int i = 0; i < 40; ++i) {
        std::string piece = pattern(100 * 1024 + i, i);
        expected += piece;
        EXPECT_TRUE(writer.write(piece));
    }
    pair_.io.run_for(100ms);
    EXPECT_GT(writer.queued(), 3u << 20) << "the client has read nothing yet";

    std::string received;
    std::optional<bool> finished = run_to_end([&] { return writer.finish(); }, &received);
    ASSERT_TRUE(finished.has_value());
    EXPECT_TRUE(*finished);
    EXPECT_EQ(writer.queued(), 0u);
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

// A full disk: every spill fails. Nothing is cut off: the bytes wait in memory, and a producer
// that waits for them (as the proxy does) gets every byte to the client, in order.
TEST_F(ClientWriterTest, BytesTheBufferCannotTakeWaitAndAllArriveInOrder) {
    settings_.directory = "/nonexistent/passenger-test";
    ClientWriter writer(pair_.near, settings_, deadline_, 10s);
    std::string expected;
    int held = 0;
    auto produce = [&]() -> asio::awaitable<bool> {
        for (int i = 0; i < 40; ++i) {
            std::string piece = pattern(100 * 1024 + i, i);
            expected += piece;
            if (!writer.write(piece)) co_return false;
            if (writer.holding_unbuffered()) {
                ++held;
                EXPECT_LE(writer.queued(), 3u * 101 * 1024) << "no more than a few pieces wait";
                co_await writer.wait_until_buffered();
            }
        }
        co_return co_await writer.finish();
    };
    std::string received;
    std::optional<bool> finished = run_to_end(produce, &received);
    ASSERT_TRUE(finished.has_value());
    EXPECT_TRUE(*finished);
    EXPECT_GT(held, 0) << "the buffer could not take some pieces";
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

TEST_F(ClientWriterTest, AClientThatStopsReadingFailsAfterTheSendTimeout) {
    ClientWriter writer(pair_.near, settings_, deadline_, 1s);
    bool hook_called = false;
    writer.on_failure([&] { hook_called = true; });
    std::string piece = pattern(2 << 20, 1);
    EXPECT_TRUE(writer.write(piece));
    std::optional<bool> finished;
    auto started = std::chrono::steady_clock::now();
    asio::co_spawn(
        pair_.io, [&]() -> asio::awaitable<void> { finished = co_await writer.finish(); },
        asio::detached);
    pair_.io.run_for(5s);
    ASSERT_TRUE(finished.has_value());
    EXPECT_FALSE(*finished);
    EXPECT_TRUE(writer.failed());
    EXPECT_TRUE(hook_called);
    EXPECT_GE(std::chrono::steady_clock::now() - started, 900ms);
}

TEST_F(ClientWriterTest, SendFileSendsTheQueuedHeadThenTheFileRange) {
    const std::string content = pattern(1 << 20, 3);
    int fd = temp_file_with(content);
    ASSERT_GE(fd, 0);
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::string head = "HTTP/1.1 206 Partial Content\r\n\r\n";
    const std::string expected = head + content.substr(12345, content.size() - 12445);
    writer.queue(head);
    std::string received;
    // More than the 16 KiB socket buffers: sendfile meets EAGAIN and waits for writability.
    std::optional<bool> sent =
        run_to_end([&] { return writer.send_file(fd, 12345, content.size() - 12445); }, &received);
    ::close(fd);
    ASSERT_TRUE(sent.has_value()) << "send_file did not finish in time";
    EXPECT_TRUE(*sent);
    ASSERT_EQ(received.size(), expected.size());
    EXPECT_TRUE(received == expected);
}

TEST_F(ClientWriterTest, SendFileFailsWhenTheFileIsShorterThanPromised) {
    const std::string content = pattern(100, 4);
    int fd = temp_file_with(content);
    ASSERT_GE(fd, 0);
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::string received;
    std::optional<bool> sent = run_to_end([&] { return writer.send_file(fd, 90, 20); }, &received);
    ::close(fd);
    ASSERT_TRUE(sent.has_value());
    EXPECT_FALSE(*sent);
    EXPECT_TRUE(writer.failed());
    EXPECT_EQ(received, content.substr(90));
}

TEST_F(ClientWriterTest, SendFileFailsWhenTheClientIsGone) {
    const std::string content = pattern(1 << 20, 5);
    int fd = temp_file_with(content);
    ASSERT_GE(fd, 0);
    pair_.far.close();
    ClientWriter writer(pair_.near, settings_, deadline_, 5s);
    std::optional<bool> sent =
        run_to_end([&] { return writer.send_file(fd, 0, content.size()); }, nullptr);
    ::close(fd);
    ASSERT_TRUE(sent.has_value());
    EXPECT_FALSE(*sent);
    EXPECT_TRUE(writer.failed());
}

}  // namespace
}  // namespace passenger::proxy

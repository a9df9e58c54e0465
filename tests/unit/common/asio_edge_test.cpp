// Asio's epoll reactor as cmake/asio_edge.cmake edits it: after a receive that took fewer bytes
// than it asked for, the next one waits for the socket's next edge without trying recv() first.
// These pin what must still hold: nothing is waited for that is already there (new bytes, an end
// of stream that came with the last bytes, bytes a peek left, a readiness wait queued behind the
// receive). Each would hang a connection if it broke; here a run gives up after 5 s instead.
#include "../socket_pair.hpp"

#include <asio/buffer.hpp>
#include <asio/io_context.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>
#include <string>

namespace passenger {
namespace {

using namespace std::chrono_literals;

struct EdgeReceived {
    asio::error_code error;
    std::string bytes;
};

// Runs `io` until `result` is set, for at most 5 s (a lost wake-up fails the test, not hangs it).
void run_until_received(asio::io_context& io, const std::optional<EdgeReceived>& result) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while (!result && std::chrono::steady_clock::now() < deadline) {
        io.restart();
        io.run_for(10ms);
    }
}

// A receive started now and left pending; `result` is set when it completes.
struct PendingEdgeReceive {
    std::array<char, 1024> buffer{};
    std::optional<EdgeReceived> result;

    template <typename Socket>
    explicit PendingEdgeReceive(Socket& socket, asio::socket_base::message_flags flags = 0) {
        socket.async_receive(asio::buffer(buffer), flags,
                             [this](asio::error_code error, size_t count) {
                                 result = EdgeReceived{error, std::string(buffer.data(), count)};
                             });
    }
};

// Lets `io` run a moment: a pending receive waits on the reactor by then.
void run_a_moment(asio::io_context& io) {
    io.restart();
    io.run_for(20ms);
}

template <typename Socket>
std::optional<EdgeReceived> edge_receive(asio::io_context& io, Socket& socket,
                                         asio::socket_base::message_flags flags = 0) {
    PendingEdgeReceive receive(socket, flags);
    run_until_received(io, receive.result);
    return receive.result;
}

template <typename Socket>
void edge_send(Socket& socket, const std::string& bytes) {
    asio::write(socket, asio::buffer(bytes));
}

// A connected Unix stream pair, shaped like testing::SocketPair (the TCP one).
struct EdgeUnixPair {
    asio::io_context io;
    asio::local::stream_protocol::socket near{io}, far{io};
    EdgeUnixPair() { asio::local::connect_pair(near, far); }
};

template <typename Pair>
class AsioEdgeTest : public ::testing::Test {};
using EdgePairs = ::testing::Types<EdgeUnixPair, passenger::testing::SocketPair>;
TYPED_TEST_SUITE(AsioEdgeTest, EdgePairs);

TYPED_TEST(AsioEdgeTest, AReceiveAfterAShortReadGetsTheNextBytes) {
    TypeParam pair;
    edge_send(pair.far, "request");
    auto first = edge_receive(pair.io, pair.near);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->bytes, "request");
    // Nothing there now: the receive waits (no recv first, with the edit) for the next bytes.
    PendingEdgeReceive second(pair.near);
    run_a_moment(pair.io);
    EXPECT_FALSE(second.result);
    edge_send(pair.far, "next");
    run_until_received(pair.io, second.result);
    ASSERT_TRUE(second.result) << "the new bytes' edge woke the receive";
    EXPECT_EQ(second.result->bytes, "next");
}

TYPED_TEST(AsioEdgeTest, AnEndOfStreamThatCameWithTheLastBytesIsNotWaitedFor) {
    TypeParam pair;
    // An app that answers and closes: the bytes and the end arrive before the core reads, and
    // their edge is taken with the bytes. The next receive must see the end, not wait for an
    // edge that never comes.
    edge_send(pair.far, "HTTP/1.1 403 Forbidden\r\n\r\n");
    pair.far.shutdown(asio::socket_base::shutdown_send);
    auto answer = edge_receive(pair.io, pair.near);
    ASSERT_TRUE(answer);
    EXPECT_EQ(answer->bytes, "HTTP/1.1 403 Forbidden\r\n\r\n");
    auto end = edge_receive(pair.io, pair.near);
    ASSERT_TRUE(end) << "the end of stream was waited for";
    EXPECT_EQ(end->error, asio::error::eof);
}

TYPED_TEST(AsioEdgeTest, AnEndOfStreamSeenByAWaitingReceiveIsNotWaitedForAgain) {
    TypeParam pair;
    // The receive is pending when the bytes and the end arrive: the reactor performs it on the
    // event, and the next receive must still find the end.
    PendingEdgeReceive answer(pair.near);
    run_a_moment(pair.io);
    edge_send(pair.far, "bye");
    pair.far.shutdown(asio::socket_base::shutdown_send);
    run_until_received(pair.io, answer.result);
    ASSERT_TRUE(answer.result);
    EXPECT_EQ(answer.result->bytes, "bye");
    auto end = edge_receive(pair.io, pair.near);
    ASSERT_TRUE(end) << "the end of stream was waited for";
    EXPECT_EQ(end->error, asio::error::eof);
}

TYPED_TEST(AsioEdgeTest, APeekLeavesTheBytesToBeReceived) {
    TypeParam pair;
    edge_send(pair.far, "peeked");
    auto peeked = edge_receive(pair.io, pair.near, asio::socket_base::message_peek);
    ASSERT_TRUE(peeked);
    EXPECT_EQ(peeked->bytes, "peeked");
    auto taken = edge_receive(pair.io, pair.near);
    ASSERT_TRUE(taken) << "a short peek made the socket look empty";
    EXPECT_EQ(taken->bytes, "peeked");
}

TYPED_TEST(AsioEdgeTest, AReadinessWaitQueuedBehindAReceiveCompletesWithIt) {
    TypeParam pair;
    PendingEdgeReceive received(pair.near);
    std::optional<EdgeReceived> waited;
    pair.near.async_wait(asio::socket_base::wait_read, [&](asio::error_code error) {
        waited = EdgeReceived{error, {}};
    });
    run_a_moment(pair.io);
    edge_send(pair.far, "one");
    run_until_received(pair.io, received.result);
    run_until_received(pair.io, waited);
    ASSERT_TRUE(received.result);
    EXPECT_EQ(received.result->bytes, "one");
    EXPECT_TRUE(waited) << "the wait behind the receive was left for an edge that may never come";
}

}  // namespace
}  // namespace passenger

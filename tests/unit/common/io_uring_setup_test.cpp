// src/common/io_uring_setup.cpp's corrections to Asio 1.22's io_uring backend. The behaviour
// pinned here holds with epoll too, so the test runs in every build.
#include <gtest/gtest.h>
#include <asio/io_context.hpp>
#include <asio/local/connect_pair.hpp>
#include <asio/local/stream_protocol.hpp>

#include <array>

namespace {

using UringTestSocket = asio::local::stream_protocol::socket;

// A receive left pending on one socket must not complete while other sockets' receives and
// cancellations reuse the ring's entries. Asio 1.22 left a cancellation's user data as the
// reused entry's, so once the 16,384-entry ring wrapped, a cancellation completed the operation
// that last used its slot: here, the pending receive ended with 0 bytes (end of stream).
TEST(IoUringSetup, CancellationsLeaveOtherSocketsReceivesPending) {
    asio::io_context io;
    UringTestSocket watched1(io), peer1(io), watched2(io), peer2(io), busy(io), busy_peer(io);
    asio::local::connect_pair(watched1, peer1);
    asio::local::connect_pair(watched2, peer2);
    asio::local::connect_pair(busy, busy_peer);
    std::array<char, 16> buffer1{}, buffer2{}, busy_buffer{};
    int completed = 0;
    asio::error_code completion_error;
    auto on_watched = [&](const asio::error_code& error, size_t) {
        ++completed;
        completion_error = error;
    };
    // Two entries in a row: each round below takes two (a receive, its cancellation), so one
    // of them shares its slot's parity with the cancellations.
    watched1.async_receive(asio::buffer(buffer1), on_watched);
    watched2.async_receive(asio::buffer(buffer2), on_watched);
    io.poll();
    for (int round = 0; round < 20000 && completed == 0; ++round) {
        bool done = false;
        busy.async_receive(asio::buffer(busy_buffer),
                           [&](const asio::error_code&, size_t) { done = true; });
        io.poll();
        busy.cancel();
        while (!done) io.run_one();
    }
    EXPECT_EQ(completed, 0) << "a pending receive completed: " << completion_error.message();
}

}  // namespace

#include "common/peer_probe.hpp"

#include "../socket_pair.hpp"

#include <asio/write.hpp>

#include <gtest/gtest.h>

namespace passenger {
namespace {

TEST(PeekPeer, QuietWhileThePeerSendsNothing) {
    testing::SocketPair pair;
    EXPECT_EQ(peek_peer(pair.near.native_handle()), PeerState::quiet);
}

TEST(PeekPeer, SentBytesAreLeftToRead) {
    testing::SocketPair pair;
    asio::write(pair.far, asio::buffer("x", 1));
    EXPECT_EQ(peek_peer(pair.near.native_handle()), PeerState::sent_bytes);
    char byte = 0;
    EXPECT_EQ(pair.near.read_some(asio::buffer(&byte, 1)), 1u);  // the peek took nothing
    EXPECT_EQ(byte, 'x');
}

TEST(PeekPeer, ClosedOnceThePeerCloses) {
    testing::SocketPair pair;
    pair.far.close();
    EXPECT_EQ(peek_peer(pair.near.native_handle()), PeerState::closed);
}

}  // namespace
}  // namespace passenger

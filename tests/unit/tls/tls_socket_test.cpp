// tls::TlsSocket against a blocking OpenSSL client over a loopback TCP pair: what the front end's
// plain-socket calls become over TLS (the peek that notices a client leaving, the non-blocking
// read, the wait for readability when OpenSSL holds the bytes already).
#include "tls/tls_socket.hpp"

#include "common/socket_deadline.hpp"
#include "proxy/client_writer.hpp"
#include "self_signed.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>

namespace passenger::tls {
namespace {

using namespace std::chrono_literals;

// A connected loopback pair (socket_pair.hpp's `passenger::testing` would shadow GoogleTest's
// namespace in the unity batch this file lands in).
struct LoopbackPair {
    asio::io_context io;
    asio::ip::tcp::socket near{io};
    asio::ip::tcp::socket far{io};
    LoopbackPair() {
        asio::ip::tcp::acceptor acceptor(
            io, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        far.connect(acceptor.local_endpoint());
        acceptor.accept(near);
    }
};

bool becomes_readable(int fd) {
    pollfd entry{fd, POLLIN, 0};
    return ::poll(&entry, 1, 5000) == 1;
}

class TlsSocketTest : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/tls-socket-test-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        ContextResult made = self_signed_context(dir_);
        ASSERT_TRUE(made.context) << made.error;

        client_fd_ = pair_.far.native_handle();  // blocking: the client runs on its own thread
        pair_.near.non_blocking(true);           // as the accept loop's sockets are
        server_.emplace(std::move(pair_.near), SSL_new(made.context.get()));
        client_.reset(SSL_new(client_context_.get()));
        SSL_set_fd(client_.get(), client_fd_);
        bool connected = false;
        std::thread client([&] { connected = SSL_connect(client_.get()) == 1; });
        asio::error_code error = asio::error::would_block;
        asio::co_spawn(
            pair_.io,
            [&]() -> asio::awaitable<void> {
                co_await server_->async_handshake(asio::redirect_error(asio::use_awaitable, error));
            },
            asio::detached);
        pair_.io.run_for(10s);
        client.join();
        ASSERT_FALSE(error) << error.message();
        ASSERT_TRUE(connected);
        pair_.io.restart();
    }
    void TearDown() override {
        ERR_clear_error();
        std::filesystem::remove_all(dir_);
    }

    // Whether the server's async_wait(wait_read) completes within a second.
    bool server_wait_completes() {
        bool completed = false;
        server_->async_wait(TlsSocket::wait_read,
                            [&](const asio::error_code& error) { completed = !error; });
        pair_.io.run_for(1s);
        pair_.io.restart();
        return completed;
    }

    std::string dir_;
    LoopbackPair pair_;
    int client_fd_ = -1;
    std::optional<TlsSocket> server_;
    std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client_context_{
        SSL_CTX_new(TLS_client_method()), SSL_CTX_free};
    std::unique_ptr<SSL, decltype(&SSL_free)> client_{nullptr, SSL_free};
};

TEST_F(TlsSocketTest, APeekLeavesTheDataForTheNextReadAndAWaitSeesItHeldByOpenSsl) {
    EXPECT_EQ(server_->peek_peer(), PeerState::quiet);
    size_t written = 0;
    ASSERT_EQ(SSL_write_ex(client_.get(), "GET /", 5, &written), 1);
    ASSERT_TRUE(becomes_readable(server_->lowest_layer().native_handle()));
    EXPECT_EQ(server_->peek_peer(), PeerState::sent_bytes);
    // The record was read from the socket into OpenSSL: the socket has nothing, the stream has.
    EXPECT_TRUE(server_wait_completes());
    char buffer[64];
    ASSERT_EQ(server_->receive_now(buffer, sizeof buffer), 5);
    EXPECT_EQ(std::string_view(buffer, 5), "GET /");
    EXPECT_EQ(server_->receive_now(buffer, sizeof buffer), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_FALSE(server_wait_completes());
}

// The context reads ahead (one read(2) takes every record that is there): a record read ahead
// but not yet decrypted has left the kernel, so a wait for readability must see it in OpenSSL.
TEST_F(TlsSocketTest, ARecordReadAheadMakesAWaitCompleteAndIsReadNext) {
    size_t written = 0;
    ASSERT_EQ(SSL_write_ex(client_.get(), "first", 5, &written), 1);
    ASSERT_EQ(SSL_write_ex(client_.get(), "second", 6, &written), 1);
    ASSERT_TRUE(becomes_readable(server_->lowest_layer().native_handle()));
    // Loopback delivers within write(2): both records are in the kernel before the first read.
    char buffer[64];
    ASSERT_EQ(server_->receive_now(buffer, sizeof buffer), 5);  // one record per read
    EXPECT_TRUE(server_wait_completes());
    ASSERT_EQ(server_->receive_now(buffer, sizeof buffer), 6);
    EXPECT_EQ(std::string_view(buffer, 6), "second");
    EXPECT_FALSE(server_wait_completes());
}

// Part of a record read ahead is no reason to stop waiting: only the socket can complete it.
TEST_F(TlsSocketTest, PartOfARecordReadAheadLeavesTheWaitToTheSocket) {
    // Application data, 32 bytes announced, 3 sent.
    const char part[] =
        "\x17\x03\x03\x00\x20"
        "abc";
    ASSERT_EQ(::write(client_fd_, part, sizeof part - 1), static_cast<ssize_t>(sizeof part - 1));
    ASSERT_TRUE(becomes_readable(server_->lowest_layer().native_handle()));
    char buffer[64];
    EXPECT_EQ(server_->receive_now(buffer, sizeof buffer), -1);
    EXPECT_EQ(errno, EAGAIN);
    EXPECT_FALSE(server_wait_completes());
}

TEST_F(TlsSocketTest, ACloseNotifyIsTheClientLeavingAndTheEndOfItsStream) {
    ASSERT_EQ(SSL_shutdown(client_.get()), 0);  // close_notify sent; the socket stays open
    ASSERT_TRUE(becomes_readable(server_->lowest_layer().native_handle()));
    EXPECT_EQ(server_->peek_peer(), PeerState::closed);
    char buffer[64];
    EXPECT_EQ(server_->receive_now(buffer, sizeof buffer), 0);
}

TEST_F(TlsSocketTest, AClientThatClosesWithoutCloseNotifyEndsTheStreamLikeATcpClose) {
    pair_.far.shutdown(asio::ip::tcp::socket::shutdown_send);  // a FIN, no close_notify
    ASSERT_TRUE(becomes_readable(server_->lowest_layer().native_handle()));
    char buffer[64];
    EXPECT_EQ(server_->receive_now(buffer, sizeof buffer), 0);
    EXPECT_EQ(server_->peek_peer(), PeerState::closed);
}

// A response complete in memory goes out inside finish_now(), as over plain TCP: an
// asynchronous write would complete only through the event loop's queue, behind whatever else
// the loop has to do (other clients' handshakes), and the client would wait for that.
TEST_F(TlsSocketTest, AResponseThatFitsIsWrittenAtOnceWithoutTheEventLoop) {
    http::BodyBufferSettings settings;
    settings.directory = "/tmp";
    SocketDeadline deadline(server_->lowest_layer(), 1s);
    proxy::ClientWriter<TlsSocket> writer(*server_, settings, deadline, 5s);
    std::string response = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    const std::string expected = response;
    writer.queue(response);
    EXPECT_EQ(writer.finish_now(), true);  // the loop has not run: nothing was left to it
    EXPECT_EQ(writer.queued(), 0u);
    std::string received(expected.size(), '\0');
    size_t read = 0;
    ASSERT_EQ(SSL_read_ex(client_.get(), received.data(), received.size(), &read), 1);
    EXPECT_EQ(received.substr(0, read), expected);
}

}  // namespace
}  // namespace passenger::tls

#include "static/static_files.hpp"

#include "temp_tree.hpp"

#include <fcntl.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <csignal>
#include <optional>
#include <string>

namespace passenger::static_files {
namespace {

using asio::ip::tcp;

constexpr size_t kFileSize = 1 << 20;

std::string patterned_bytes(size_t size) {
    std::string bytes(size, '\0');
    for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>((i * 131 + i / 251) & 0xff);
    return bytes;
}

class StaticSendFileTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::signal(SIGPIPE, SIG_IGN);  // the core ignores it too; sendfile(2) cannot opt out
        content_ = patterned_bytes(kFileSize);
        tree_.write("big.bin", content_);
        file_ = FileDescriptor(::open(tree_.path("big.bin").c_str(), O_RDONLY | O_CLOEXEC));
        ASSERT_GE(file_.get(), 0);

        tcp::acceptor acceptor(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
        receiver_.connect(acceptor.local_endpoint());
        acceptor.accept(sender_);
        // Small buffers so the sender hits EAGAIN and has to wait for writability.
        sender_.set_option(asio::socket_base::send_buffer_size(16 * 1024));
        receiver_.set_option(asio::socket_base::receive_buffer_size(16 * 1024));
    }

    // Runs the sender's send_file and, unless `receive` is false, a reader that collects
    // everything until EOF; both bounded by a deadline.
    std::error_code run(off_t offset, size_t length, bool receive = true) {
        std::optional<std::error_code> result;
        asio::co_spawn(
            io_,
            [&]() -> asio::awaitable<void> {
                result = co_await send_file(sender_, file_.get(), offset, length);
                std::error_code ignored;
                sender_.shutdown(tcp::socket::shutdown_send, ignored);
            },
            asio::detached);
        if (receive) {
            asio::co_spawn(
                io_,
                [&]() -> asio::awaitable<void> {
                    char buffer[8192];
                    std::error_code ec;
                    for (;;) {
                        size_t n = co_await receiver_.async_read_some(
                            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, ec));
                        received_.append(buffer, n);
                        if (ec) break;
                    }
                    done_reading_ = true;
                },
                asio::detached);
        }
        io_.run_for(std::chrono::seconds(20));
        EXPECT_TRUE(result.has_value()) << "send_file did not finish in time";
        if (receive) {
            EXPECT_TRUE(done_reading_) << "reader did not see EOF in time";
        }
        return result.value_or(std::make_error_code(std::errc::timed_out));
    }

    testing::TempTree tree_;
    std::string content_;
    FileDescriptor file_;
    asio::io_context io_;
    tcp::socket sender_{io_};
    tcp::socket receiver_{io_};
    std::string received_;
    bool done_reading_ = false;
};

TEST_F(StaticSendFileTest, SendsFileRangeOverLoopback) {
    constexpr off_t kOffset = 12345;
    constexpr size_t kLength = kFileSize - kOffset - 100;
    std::error_code ec = run(kOffset, kLength);
    EXPECT_FALSE(ec) << ec.message();
    ASSERT_EQ(received_.size(), kLength);
    EXPECT_TRUE(received_ == content_.substr(kOffset, kLength)) << "received bytes differ";
}

TEST_F(StaticSendFileTest, ZeroLengthSendsNothing) {
    EXPECT_FALSE(run(0, 0));
    EXPECT_TRUE(received_.empty());
}

TEST_F(StaticSendFileTest, FileShorterThanLengthIsAnError) {
    std::error_code ec = run(kFileSize - 10, 20);
    EXPECT_EQ(ec, std::make_error_code(std::errc::io_error));
    EXPECT_EQ(received_, content_.substr(kFileSize - 10));
}

TEST_F(StaticSendFileTest, PeerGoneIsAnError) {
    receiver_.close();
    std::error_code ec = run(0, kFileSize, /*receive=*/false);
    EXPECT_TRUE(ec == std::errc::broken_pipe || ec == std::errc::connection_reset) << ec.message();
}

}  // namespace
}  // namespace passenger::static_files

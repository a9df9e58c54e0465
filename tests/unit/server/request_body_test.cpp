#include "server/request_body.hpp"

#include "../socket_pair.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/write.hpp>

#include <gtest/gtest.h>
#include <sys/resource.h>

#include <csignal>

#include <optional>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

struct Outcome {
    std::optional<BodyReadResult> result;
    std::string body;
    bool spilled = false;
};

// Sends `request` from the client side, then reads its head and body on the server side.
Outcome read_body(const std::string& request, BodyReadLimits limits, size_t memory_limit = 1024,
                  std::string directory = "/tmp") {
    testing::SocketPair pair;
    asio::write(pair.far, asio::buffer(request));
    http::BodyBufferSettings settings{directory, memory_limit};
    http::BodyBuffer buffer(settings);
    SocketDeadline deadline(pair.near, 1s);
    proxy::ClientReader reader(pair.near, http::MessageParser::Kind::request, 8192);
    Outcome outcome;
    asio::co_spawn(
        pair.io,
        [&]() -> asio::awaitable<void> {
            if (co_await reader.read_head() != http::ReadStatus::ok) co_return;
            std::string scratch;
            outcome.result = co_await read_request_body(reader, buffer, scratch, limits, deadline);
        },
        asio::detached);
    pair.io.run_for(5s);
    outcome.spilled = buffer.spilled();
    outcome.body = buffer.memory();
    if (buffer.file_size() > 0) {
        std::string rest(buffer.file_size(), '\0');
        EXPECT_EQ(::pread(buffer.file_fd(), rest.data(), rest.size(), 0),
                  static_cast<ssize_t>(rest.size()));
        outcome.body += rest;
    }
    return outcome;
}

TEST(ReadRequestBody, ReadsAContentLengthBody) {
    Outcome outcome = read_body("POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", {});
    EXPECT_EQ(outcome.result, BodyReadResult::complete);
    EXPECT_EQ(outcome.body, "hello");
    EXPECT_FALSE(outcome.spilled);
}

TEST(ReadRequestBody, DecodesAChunkedBodyAndSpillsPastTheMemoryLimit) {
    std::string chunk(700, 'c');
    std::string request = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "2bc\r\n" + chunk + "\r\n";
    request += "0\r\n\r\n";
    Outcome outcome = read_body(request, {});
    EXPECT_EQ(outcome.result, BodyReadResult::complete);
    EXPECT_EQ(outcome.body, chunk + chunk + chunk);
    EXPECT_TRUE(outcome.spilled);
}

TEST(ReadRequestBody, StopsAtTheSizeLimit) {
    Outcome outcome = read_body(
        "POST / HTTP/1.1\r\nTransfer-Encoding: "
        "chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n",
        {.max_size = 8});
    EXPECT_EQ(outcome.result, BodyReadResult::too_large);
}

TEST(ReadRequestBody, ABodyThatStopsArrivingTimesOut) {
    Outcome outcome =
        read_body("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", {.timeout = 1s});
    EXPECT_EQ(outcome.result, BodyReadResult::timed_out);
}

TEST(ReadRequestBody, BrokenChunkedFramingIsInvalid) {
    Outcome outcome = read_body(
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3x\r\nabc\r\n0\r\n\r\n", {});
    EXPECT_EQ(outcome.result, BodyReadResult::invalid);
}

// The temp file cannot be written: over the largest file allowed (RLIMIT_FSIZE here, a file
// system's limit elsewhere) is a body too large; an unusable folder is the server's failure.
TEST(ReadRequestBody, ABodyTheTempFileCannotTakeIsTooLargeOrAStorageFailure) {
    const std::string request =
        "POST / HTTP/1.1\r\nContent-Length: 8000\r\n\r\n" + std::string(8000, 'x');
    EXPECT_EQ(read_body(request, {}, 1024, "/nonexistent/passenger-test").result,
              BodyReadResult::storage_failed);

    rlimit saved{};
    ::getrlimit(RLIMIT_FSIZE, &saved);
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limit = saved;
    limit.rlim_cur = 4096;
    ::setrlimit(RLIMIT_FSIZE, &limit);
    Outcome outcome = read_body(request, {});
    ::setrlimit(RLIMIT_FSIZE, &saved);
    EXPECT_EQ(outcome.result, BodyReadResult::too_large);
}

}  // namespace
}  // namespace passenger::server

// HTTPS (server/tls_connection.cpp, served directly over tls::TlsSocket) and the HTTP/2 session
// (server/http2_session.cpp) driven through real sockets by a blocking OpenSSL client on another
// thread, against a Server that answers static files (no app is ever spawned). The ASan build runs
// these, so the TLS stream's buffers, the h2 streams' socket pairs and nghttp2's callbacks are
// checked for memory errors.
#include "server/tls_connection.hpp"
#include "common/event_loops.hpp"
#include "server/server.hpp"
#include "server/turn_queue.hpp"
#include "tls/credentials.hpp"

#include "../tls/self_signed.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <gtest/gtest.h>
#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

namespace passenger::server {
namespace {

namespace fs = std::filesystem;

// A blocking TLS client connection to 127.0.0.1:port offering `alpn` (wire format).
class TlsClient {
  public:
    TlsClient(int port, std::string_view alpn) : context_(SSL_CTX_new(TLS_client_method())) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(static_cast<uint16_t>(port));
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
        SSL_CTX_set_alpn_protos(context_, reinterpret_cast<const unsigned char*>(alpn.data()),
                                static_cast<unsigned>(alpn.size()));
        ssl_ = SSL_new(context_);
        SSL_set_fd(ssl_, fd_);
        connected_ = connected_ && SSL_connect(ssl_) == 1;
    }
    ~TlsClient() {
        SSL_free(ssl_);
        SSL_CTX_free(context_);
        ::close(fd_);
        ERR_clear_error();
    }
    bool connected() const { return connected_; }
    std::string alpn() const {
        const unsigned char* protocol = nullptr;
        unsigned length = 0;
        SSL_get0_alpn_selected(ssl_, &protocol, &length);
        return std::string(reinterpret_cast<const char*>(protocol), length);
    }
    bool write(std::string_view data) {
        size_t written = 0;
        return SSL_write_ex(ssl_, data.data(), data.size(), &written) == 1;
    }
    // Up to `size` bytes; 0 at the end or on failure.
    size_t read(char* buffer, size_t size) {
        size_t length = 0;
        return SSL_read_ex(ssl_, buffer, size, &length) == 1 ? length : 0;
    }

  private:
    SSL_CTX* context_;
    SSL* ssl_ = nullptr;
    int fd_ = -1;
    bool connected_ = false;
};

class TlsConnectionTest : public ::testing::Test {
  protected:
    void SetUp() override {
        // As in the core: a write to a socket the peer closed fails with EPIPE instead.
        std::signal(SIGPIPE, SIG_IGN);
        char pattern[] = "/tmp/tls-connection-test-XXXXXX";
        dir_ = ::mkdtemp(pattern);
        fs::create_directories(dir_ + "/public");
        std::ofstream(dir_ + "/public/hello.txt") << "hello over TLS\n";
        big_.resize(3 * 1024 * 1024 + 7);
        for (size_t i = 0; i < big_.size(); ++i) big_[i] = static_cast<char>('a' + i * 7 % 26);
        std::ofstream(dir_ + "/public/big.txt", std::ios::binary) << big_;
        options_.app_root = dir_;

        tls::ContextResult made = tls::self_signed_context(dir_);
        ASSERT_TRUE(made.context) << made.error;
        context_ = made.context;
    }
    void TearDown() override { fs::remove_all(dir_); }

    // Serves TLS connections on a loopback port while `client(port)` runs on its own thread.
    void serve_while(const std::function<void(int port)>& client) {
        EventLoops loops(1);  // one loop: the test runs it on this thread
        asio::io_context& io = loops.main();
        // The server's own listener stays idle: the test accepts, as the accept loop would.
        asio::ip::tcp::acceptor idle(io, {asio::ip::address_v4::loopback(), 0});
        Server server(loops, options_, idle.release());
        server.set_tls_context(context_);
        asio::ip::tcp::acceptor acceptor(io, {asio::ip::address_v4::loopback(), 0});
        const int port = acceptor.local_endpoint().port();
        acceptor.set_option(asio::ip::tcp::no_delay(true));  // as the server's listeners have it
        asio::co_spawn(
            io,
            [&]() -> asio::awaitable<void> {
                for (;;) {
                    auto socket = co_await acceptor.async_accept(asio::use_awaitable);
                    asio::co_spawn(io, serve_tls_connection(std::move(socket), server, {}),
                                   asio::detached);
                }
            },
            asio::detached);
        // The loop stops once no request is in flight: a request's coroutine must not outlive
        // the server it reports to (its client may have its response before it is done).
        std::thread thread([&] {
            client(port);
            asio::co_spawn(
                io,
                [&]() -> asio::awaitable<void> {
                    asio::steady_timer timer(io);
                    for (int i = 0; i < 500 && server.requests().in_flight_count() > 0; ++i) {
                        timer.expires_after(std::chrono::milliseconds(10));
                        co_await timer.async_wait(asio::use_awaitable);
                    }
                    io.stop();
                },
                asio::detached);
        });
        io.run();
        thread.join();
    }

    std::string dir_;
    std::string big_;
    config::Options options_;
    tls::ServerContext context_;
};

// Whether the server's end of the connection accepted on `port` has Nagle's algorithm off: small
// writes (an h2 frame, a TLS record) would otherwise wait for the client's delayed ACK, 40 ms on
// Linux. The server runs in this process, so its socket is one of our descriptors: the one whose
// local port is `port` and that has a peer (the listener has none).
std::optional<bool> accepted_socket_has_nodelay(int port) {
    for (const auto& entry : fs::directory_iterator("/proc/self/fd")) {
        const int fd = std::atoi(entry.path().filename().c_str());
        sockaddr_in local{}, peer{};
        socklen_t local_length = sizeof local, peer_length = sizeof peer;
        if (::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_length) != 0 ||
            local.sin_family != AF_INET || ntohs(local.sin_port) != port ||
            ::getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_length) != 0)
            continue;
        int nodelay = 0;
        socklen_t length = sizeof nodelay;
        if (::getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &nodelay, &length) != 0) return {};
        return nodelay != 0;
    }
    return {};
}

// Reads one HTTP/1.1 response with a Content-Length body from `client`.
std::pair<std::string, std::string> read_response(TlsClient& client, std::string& pending) {
    char buffer[16 * 1024];
    size_t head_end;
    while ((head_end = pending.find("\r\n\r\n")) == std::string::npos) {
        size_t length = client.read(buffer, sizeof buffer);
        if (length == 0) return {};
        pending.append(buffer, length);
    }
    std::string head = pending.substr(0, head_end);
    size_t at = head.find("Content-Length: ");
    size_t body_length = at == std::string::npos ? 0 : std::stoul(head.substr(at + 16));
    while (pending.size() < head_end + 4 + body_length) {
        size_t length = client.read(buffer, sizeof buffer);
        if (length == 0) return {};
        pending.append(buffer, length);
    }
    std::string body = pending.substr(head_end + 4, body_length);
    pending.erase(0, head_end + 4 + body_length);
    return {head, body};
}

TEST_F(TlsConnectionTest, RelaysKeepAliveRequestsAndALargeFile) {
    serve_while([&](int port) {
        TlsClient client(port, std::string_view("\x08http/1.1", 9));
        ASSERT_TRUE(client.connected());
        EXPECT_EQ(client.alpn(), "http/1.1");
        // Two requests in one write (pipelined), then a 3 MB file the client reads slowly.
        ASSERT_TRUE(
            client.write("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"
                         "GET /hello.txt?again HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        std::string pending;
        for (int i = 0; i < 2; ++i) {
            auto [head, body] = read_response(client, pending);
            EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
            EXPECT_EQ(body, "hello over TLS\n");
        }
        EXPECT_EQ(accepted_socket_has_nodelay(port), std::optional<bool>(true));
        ASSERT_TRUE(client.write("GET /big.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));  // let the relay queue up
        auto [head, body] = read_response(client, pending);
        EXPECT_TRUE(head.starts_with("HTTP/1.1 200")) << head;
        EXPECT_TRUE(body == big_) << "body of " << body.size() << " bytes";
    });
}

TEST_F(TlsConnectionTest, AClientThatLeavesMidResponseEndsTheConnectionCleanly) {
    serve_while([&](int port) {
        {
            TlsClient client(port, std::string_view("\x08http/1.1", 9));
            ASSERT_TRUE(client.connected());
            ASSERT_TRUE(client.write("GET /big.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
            char buffer[1024];
            EXPECT_GT(client.read(buffer, sizeof buffer), 0u);
        }  // gone with most of the response unread
        TlsClient next(port, std::string_view("\x08http/1.1", 9));
        ASSERT_TRUE(next.write("GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n\r\n"));
        std::string pending;
        EXPECT_EQ(read_response(next, pending).second, "hello over TLS\n");
    });
}

// A minimal nghttp2 client over a blocking TlsClient: streams' statuses and bodies.
struct Http2Client {
    struct Response {
        std::string status;
        std::string body;
        bool closed = false;
        uint32_t error = 0;
    };
    explicit Http2Client(TlsClient& tls) : tls(tls) {
        nghttp2_session_callbacks* callbacks;
        nghttp2_session_callbacks_new(&callbacks);
        nghttp2_session_callbacks_set_on_header_callback(
            callbacks,
            [](nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
               size_t name_length, const uint8_t* value, size_t value_length, uint8_t, void* self) {
                if (std::string_view(reinterpret_cast<const char*>(name), name_length) == ":status")
                    static_cast<Http2Client*>(self)->responses[frame->hd.stream_id].status =
                        std::string(reinterpret_cast<const char*>(value), value_length);
                return 0;
            });
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(
            callbacks, [](nghttp2_session*, uint8_t, int32_t stream_id, const uint8_t* data,
                          size_t length, void* self) {
                static_cast<Http2Client*>(self)->responses[stream_id].body.append(
                    reinterpret_cast<const char*>(data), length);
                return 0;
            });
        nghttp2_session_callbacks_set_on_stream_close_callback(
            callbacks, [](nghttp2_session*, int32_t stream_id, uint32_t error, void* self) {
                auto& response = static_cast<Http2Client*>(self)->responses[stream_id];
                response.closed = true;
                response.error = error;
                return 0;
            });
        nghttp2_session_client_new(&session, callbacks, this);
        nghttp2_session_callbacks_del(callbacks);
        nghttp2_submit_settings(session, NGHTTP2_FLAG_NONE, nullptr, 0);
    }
    ~Http2Client() { nghttp2_session_del(session); }

    int32_t get(const std::string& path, const nghttp2_data_provider* body = nullptr,
                const char* method = "GET", const std::string& extra_value = "") {
        std::string authority = "localhost";
        auto field = [](const char* name, const std::string& value) {
            return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name)),
                              reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())),
                              std::strlen(name), value.size(), NGHTTP2_NV_FLAG_NONE};
        };
        std::string method_text = method, scheme = "https";
        nghttp2_nv fields[] = {field(":method", method_text), field(":scheme", scheme),
                               field(":path", path), field(":authority", authority),
                               field("x-extra", extra_value)};
        return nghttp2_submit_request(session, nullptr, fields, extra_value.empty() ? 4 : 5, body,
                                      nullptr);
    }
    // Exchanges frames until every stream in `ids` closed (or the connection ends).
    bool run_until_closed(const std::vector<int32_t>& ids) {
        char buffer[16 * 1024];
        for (;;) {
            const uint8_t* data;
            ssize_t length;
            while ((length = nghttp2_session_mem_send(session, &data)) > 0)
                if (!tls.write({reinterpret_cast<const char*>(data), size_t(length)})) return false;
            bool all_closed = true;
            for (int32_t id : ids) all_closed = all_closed && responses[id].closed;
            if (all_closed) return true;
            size_t received = tls.read(buffer, sizeof buffer);
            if (received == 0) return false;
            if (nghttp2_session_mem_recv(session, reinterpret_cast<const uint8_t*>(buffer),
                                         received) < 0)
                return false;
        }
    }

    TlsClient& tls;
    nghttp2_session* session = nullptr;
    std::map<int32_t, Response> responses;
};

TEST_F(TlsConnectionTest, Http2StreamsGetFilesErrorsAndResets) {
    serve_while([&](int port) {
        TlsClient tls(port, std::string_view("\x02h2\x08http/1.1", 12));
        ASSERT_TRUE(tls.connected());
        ASSERT_EQ(tls.alpn(), "h2");
        EXPECT_EQ(accepted_socket_has_nodelay(port), std::optional<bool>(true));
        Http2Client client(tls);
        int32_t hello = client.get("/hello.txt");
        int32_t big = client.get("/big.txt");
        int32_t missing = client.get("/../etc/passwd");
        int32_t reset = client.get("/big.txt?reset");
        nghttp2_submit_rst_stream(client.session, NGHTTP2_FLAG_NONE, reset, NGHTTP2_CANCEL);
        // A request body the front end reads in full before refusing the method on a file.
        std::string upload(200 * 1024, 'u');
        nghttp2_data_provider provider{};
        provider.source.ptr = &upload;
        provider.read_callback = [](nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                                    uint32_t* flags, nghttp2_data_source* source,
                                    void*) -> ssize_t {
            auto* text = static_cast<std::string*>(source->ptr);
            size_t count = std::min(length, text->size());
            std::memcpy(buffer, text->data(), count);
            text->erase(0, count);
            if (text->empty()) *flags |= NGHTTP2_DATA_FLAG_EOF;
            return static_cast<ssize_t>(count);
        };
        int32_t post = client.get("/hello.txt", &provider, "POST");
        ASSERT_TRUE(client.run_until_closed({hello, big, missing, reset, post}));
        EXPECT_EQ(client.responses[hello].status, "200");
        EXPECT_EQ(client.responses[hello].body, "hello over TLS\n");
        EXPECT_EQ(client.responses[big].status, "200");
        EXPECT_TRUE(client.responses[big].body == big_);
        EXPECT_EQ(client.responses[missing].status, "400");
        EXPECT_FALSE(client.responses[post].status.empty());
        EXPECT_EQ(client.responses[post].error, 0u);
        // A header list past --client-max-header-size is reset as it is decoded.
        int32_t huge = client.get("/hello.txt?huge", nullptr, "GET", std::string(40 * 1024, 'h'));
        ASSERT_TRUE(client.run_until_closed({huge}));
        EXPECT_EQ(client.responses[huge].error, static_cast<uint32_t>(NGHTTP2_ENHANCE_YOUR_CALM));
        EXPECT_TRUE(client.responses[huge].status.empty());
        // The connection still serves after all that.
        int32_t after = client.get("/hello.txt?after");
        ASSERT_TRUE(client.run_until_closed({after}));
        EXPECT_EQ(client.responses[after].body, "hello over TLS\n");
    });
}

// New TLS connections start one per turn of their loop (server/turn_queue.hpp): an event that is
// ready while four starts queue up (a request, an app's response) runs before the last of them,
// as it would before the last of four handshakes. Starting all four at once, as the server did,
// made it wait for all of them. What has not started at shutdown is handed back, never started.
TEST(TurnQueueTest, StartsOneItemPerLoopTurnAndHandsBackTheRest) {
    asio::io_context io;
    std::vector<std::string> order;
    TurnQueue<int> queue(io, [&](int item) { order.push_back(fmt::format("start {}", item)); });
    int pair[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair), 0);
    asio::posix::stream_descriptor ready(io, pair[0]);
    ASSERT_EQ(::write(pair[1], "x", 1), 1);
    ready.async_wait(asio::posix::stream_descriptor::wait_read,
                     [&](asio::error_code) { order.push_back("event"); });
    asio::post(io, [&] {
        for (int item = 1; item <= 4; ++item) queue.push(item);
    });
    io.run();
    ASSERT_EQ(order.size(), 5u);
    EXPECT_EQ(order.front(), "start 1");
    EXPECT_EQ(order.back(), "start 4") << "the ready event runs before the last start";
    EXPECT_NE(order[4], "event");
    const auto event = std::find(order.begin(), order.end(), "event") - order.begin();
    EXPECT_LE(event, 2) << "at most two starts before the event, one per turn";

    order.clear();
    io.restart();
    std::deque<int> left;
    asio::post(io, [&] {
        for (int item = 5; item <= 7; ++item) queue.push(item);
        left = queue.take_all();
    });
    io.run();
    EXPECT_EQ(order, std::vector<std::string>{"start 5"});
    EXPECT_EQ(left, (std::deque<int>{6, 7}));
    EXPECT_EQ(queue.waiting(), 0u);
    ::close(pair[1]);
}

}  // namespace
}  // namespace passenger::server

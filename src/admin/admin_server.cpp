#include "admin/admin_server.hpp"

#include "common/log.hpp"
#include "http/message_reader.hpp"
#include "http/response_head.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <chrono>

namespace passenger::admin {
namespace {

using namespace std::chrono_literals;
using Socket = asio::local::stream_protocol::socket;
constexpr size_t kMaxHead = 16 * 1024;
constexpr auto kIdleTimeout = 30s;

std::string serialize(const AdminResponse& response, bool keep_alive) {
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: "
        "no-store\r\nConnection: {}\r\n\r\n{}",
        response.status, http::reason_phrase(response.status), response.content_type,
        response.body.size(), keep_alive ? "keep-alive" : "close", response.body);
}

// Closes the socket when it expires, so a silent or slow client cannot keep a connection. The
// handler holds a weak pointer: it may run after the connection's coroutine has ended.
class IdleDeadline {
  public:
    IdleDeadline(asio::io_context& io, const std::shared_ptr<Socket>& socket)
        : timer_(io), socket_(socket) {}

    void arm() {
        timer_.expires_after(kIdleTimeout);
        timer_.async_wait([socket = socket_](const asio::error_code& error) {
            if (error) return;
            if (auto open = socket.lock()) {
                asio::error_code ignored;
                open->close(ignored);
            }
        });
    }

  private:
    asio::steady_timer timer_;
    std::weak_ptr<Socket> socket_;
};

// Reads the rest of a request whose head is complete; returns the response to send when the
// request cannot be handled (malformed or too large), else nullopt with `body` filled.
asio::awaitable<std::optional<AdminResponse>> read_request_body(http::MessageReader<Socket>& reader,
                                                                std::string& body) {
    auto too_large = [] {
        return json_error(
            413, fmt::format("request body too large ({} bytes at most)", kMaxAdminRequestBody));
    };
    if (reader.head().content_length.value_or(0) > kMaxAdminRequestBody) co_return too_large();
    while (!reader.parser().message_complete()) {
        if (co_await reader.read_body(body) != http::ReadStatus::ok)
            co_return json_error(400, "incomplete or malformed request body");
        if (body.size() > kMaxAdminRequestBody) co_return too_large();
    }
    co_return std::nullopt;
}

}  // namespace

AdminServer::AdminServer(asio::io_context& io, AdminBackend& backend)
    : io_(io), backend_(backend), acceptor_(io) {}

AdminServer::~AdminServer() {
    stop();
}

std::string AdminServer::listen(const std::string& socket_path) {
    if (socket_path.size() >= sizeof(sockaddr_un::sun_path))
        return fmt::format("admin socket path {} is too long for a Unix socket ({} bytes at most)",
                           socket_path, sizeof(sockaddr_un::sun_path) - 1);
    asio::local::stream_protocol::endpoint endpoint(socket_path);
    ::unlink(socket_path.c_str());
    asio::error_code error;
    acceptor_.open(endpoint.protocol(), error);
    // Born private: forks happen on the main loop only (this one), so the umask cannot leak into
    // a concurrent fork.
    mode_t old_mask = ::umask(0177);
    if (!error) acceptor_.bind(endpoint, error);
    ::umask(old_mask);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        asio::error_code ignored;
        acceptor_.close(ignored);
        return fmt::format("cannot listen on admin socket {}: {}", socket_path, error.message());
    }
    ::chmod(socket_path.c_str(), 0600);
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    socket_path_ = socket_path;
    stopped_ = false;
    asio::co_spawn(io_, accept_loop(), asio::detached);
    return {};
}

void AdminServer::stop() {
    if (stopped_) return;
    stopped_ = true;
    asio::error_code ignored;
    acceptor_.close(ignored);
    for (auto& weak : connections_) {
        if (auto socket = weak.lock()) socket->close(ignored);
    }
    connections_.clear();
    if (!socket_path_.empty()) ::unlink(socket_path_.c_str());
}

asio::awaitable<void> AdminServer::accept_loop() {
    asio::steady_timer pause(io_);
    while (!stopped_) {
        asio::error_code error;
        Socket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, error));
        if (stopped_ || error == asio::error::operation_aborted) break;
        if (error) {
            log::error("Admin socket: accept() failed: {}", error.message());
            pause.expires_after(100ms);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
            continue;
        }
        std::erase_if(connections_, [](const auto& weak) { return weak.expired(); });
        if (connections_.size() >= kMaxConnections) {
            log::warn("Admin socket: {} connections open already; refusing one", kMaxConnections);
            continue;  // `socket` closes as it goes out of scope
        }
        auto shared = std::make_shared<Socket>(std::move(socket));
        ::fcntl(shared->native_handle(), F_SETFD, FD_CLOEXEC);
        connections_.push_back(shared);
        asio::co_spawn(io_, serve(std::move(shared)), asio::detached);
    }
}

asio::awaitable<void> AdminServer::serve(std::shared_ptr<Socket> socket) {
    const auto peer = peer_credentials(socket->native_handle());
    http::MessageReader<Socket> reader(*socket, http::MessageParser::Kind::request, kMaxHead);
    IdleDeadline deadline(io_, socket);
    bool keep_alive = true;
    while (keep_alive && !stopped_) {
        deadline.arm();
        http::ReadStatus status = co_await reader.read_head();
        if (status == http::ReadStatus::closed || status == http::ReadStatus::truncated) break;
        keep_alive = false;
        std::optional<AdminResponse> response;
        if (status == http::ReadStatus::parse_error)
            response = json_error(400, "malformed HTTP request: " + reader.parser().error_reason());
        else if (status == http::ReadStatus::too_large)
            response = json_error(431, "request head too large");
        AdminRequest request{reader.head().method, reader.head().target, {}, 0};
        if (!response) response = co_await read_request_body(reader, request.body);
        if (!response && !peer)
            response = json_error(403, "cannot tell who is connecting (SO_PEERCRED failed)");
        if (!response) {
            request.peer_uid = peer->uid;
            response = handle_admin_request(backend_, request);
            keep_alive = reader.head().keep_alive &&
                         may_access(peer->uid, backend_.owner_uid(), AccessKind::read);
        }
        if (response->status == 403) {
            log::warn("Admin socket: refused {} {} from uid {} (pid {})", request.method,
                      request.target, peer ? static_cast<long>(peer->uid) : -1L,
                      peer ? static_cast<long>(peer->pid) : -1L);
        }
        std::string out = serialize(*response, keep_alive);
        asio::error_code error;
        co_await asio::async_write(*socket, asio::buffer(out),
                                   asio::redirect_error(asio::use_awaitable, error));
        if (error) break;
        reader.next_message();
    }
    asio::error_code ignored;
    socket->shutdown(Socket::shutdown_send, ignored);
    socket->close(ignored);
}

}  // namespace passenger::admin

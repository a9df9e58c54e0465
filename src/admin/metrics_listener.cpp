#include "admin/metrics_listener.hpp"

#include "admin/metrics.hpp"
#include "common/log.hpp"
#include "http/message_reader.hpp"
#include "http/response_head.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <chrono>

namespace passenger::admin {
namespace {

using namespace std::chrono_literals;
using TcpSocket = asio::ip::tcp::socket;
constexpr size_t kMaxMetricsHead = 16 * 1024;
constexpr size_t kMaxConnections = 32;
constexpr auto kConnectionTimeout = 10s;

std::string metrics_response(int status, std::string_view content_type, std::string_view body,
                             bool head_only) {
    return fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: "
        "no-store\r\nConnection: close\r\n\r\n{}",
        status, http::reason_phrase(status), content_type, body.size(),
        head_only ? std::string_view() : body);
}

}  // namespace

MetricsListener::MetricsListener(asio::io_context& io, std::function<std::string()> render)
    : io_(io), render_(std::move(render)), acceptor_(io) {}

std::string MetricsListener::listen(const std::string& host, int port) {
    asio::error_code error;
    const asio::ip::address address = asio::ip::make_address(host, error);
    if (error) return fmt::format("--metrics-address: '{}' is not an IP address", host);
    const asio::ip::tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
    acceptor_.open(endpoint.protocol(), error);
    if (!error) acceptor_.set_option(asio::socket_base::reuse_address(true), error);
    if (!error) acceptor_.bind(endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
        asio::error_code ignored;
        acceptor_.close(ignored);
        return fmt::format("cannot listen on --metrics-address {}:{}: {}", host, port,
                           error.message());
    }
    ::fcntl(acceptor_.native_handle(), F_SETFD, FD_CLOEXEC);
    stopped_ = false;
    asio::co_spawn(io_, accept_loop(), asio::detached);
    return {};
}

void MetricsListener::stop() {
    stopped_ = true;
    asio::error_code ignored;
    acceptor_.close(ignored);
}

asio::awaitable<void> MetricsListener::accept_loop() {
    asio::steady_timer pause(io_);
    while (!stopped_) {
        asio::error_code error;
        TcpSocket socket =
            co_await acceptor_.async_accept(asio::redirect_error(asio::use_awaitable, error));
        if (stopped_ || error == asio::error::operation_aborted) break;
        if (error) {  // out of descriptors: pause instead of spinning
            pause.expires_after(100ms);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
            continue;
        }
        if (connections_ >= kMaxConnections) continue;  // closed as `socket` goes
        ::fcntl(socket.native_handle(), F_SETFD, FD_CLOEXEC);
        asio::co_spawn(io_, serve(std::make_shared<TcpSocket>(std::move(socket))), asio::detached);
    }
}

asio::awaitable<void> MetricsListener::serve(std::shared_ptr<TcpSocket> shared) {
    ++connections_;
    TcpSocket& socket = *shared;
    // The handler may run after this coroutine ended: it holds the socket weakly.
    asio::steady_timer deadline(io_);
    deadline.expires_after(kConnectionTimeout);
    deadline.async_wait([weak = std::weak_ptr<TcpSocket>(shared)](const asio::error_code& error) {
        asio::error_code ignored;
        if (auto open = weak.lock(); open && !error) open->cancel(ignored);
    });
    http::MessageReader<TcpSocket> reader(socket, http::MessageParser::Kind::request,
                                          kMaxMetricsHead);
    const http::ReadStatus status = co_await reader.read_head();
    std::string out;
    if (status == http::ReadStatus::ok) {
        const http::MessageHead& head = reader.head();
        const std::string_view path =
            std::string_view(head.target).substr(0, head.target.find('?'));
        const bool get = head.method == "GET" || head.method == "HEAD";
        if (path != "/metrics")
            out = metrics_response(404, "text/plain", "Not found: try /metrics\n", false);
        else if (!get)
            out = metrics_response(405, "text/plain", "GET only\n", false);
        else
            out = metrics_response(200, kMetricsContentType, render_(), head.method == "HEAD");
    } else if (status == http::ReadStatus::parse_error || status == http::ReadStatus::too_large) {
        out = metrics_response(400, "text/plain", "Bad request\n", false);
    }
    asio::error_code error;
    if (!out.empty())
        co_await asio::async_write(socket, asio::buffer(out),
                                   asio::redirect_error(asio::use_awaitable, error));
    deadline.cancel();
    socket.shutdown(TcpSocket::shutdown_both, error);
    socket.close(error);
    --connections_;
}

}  // namespace passenger::admin

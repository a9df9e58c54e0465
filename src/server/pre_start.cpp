#include "server/pre_start.hpp"

#include "common/log.hpp"

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <algorithm>
#include <chrono>
#include <memory>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

// Long enough for an app that starts slowly (Passenger's default start timeout is 90 s).
constexpr auto kPreStartTimeout = 120s;

asio::awaitable<void> request_url(std::string url, PreStartTarget target) {
    auto executor = co_await asio::this_coro::executor;
    asio::error_code error;
    auto token = asio::redirect_error(asio::use_awaitable, error);
    asio::ip::tcp::resolver resolver(executor);
    std::string host = target.host;
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    // Synchronous: this build of Asio resolves asynchronously only with threads. The URL names
    // nginx, normally by address or through /etc/hosts, which answers at once.
    auto endpoints = resolver.resolve(host, target.port, error);
    if (error) {
        log::error("Pre-starting {}: cannot resolve {}: {}", url, host, error.message());
        co_return;
    }
    auto socket = std::make_shared<asio::ip::tcp::socket>(executor);
    asio::steady_timer deadline(executor);
    deadline.expires_after(kPreStartTimeout);
    deadline.async_wait([socket](asio::error_code waited) {
        asio::error_code ignored;
        if (!waited) socket->close(ignored);
    });
    co_await asio::async_connect(*socket, endpoints, token);
    std::string response;
    if (!error) {
        std::string head = "GET " + target.path + " HTTP/1.0\r\nHost: " + target.host +
                           "\r\nUser-Agent: passenger (pre-start)\r\n\r\n";
        co_await asio::async_write(*socket, asio::buffer(head), token);
    }
    if (!error) {
        // The status line is all that matters; the rest is read and dropped until the end.
        char buffer[4096];
        for (;;) {
            size_t n = co_await socket->async_read_some(asio::buffer(buffer), token);
            if (response.size() < 256) response.append(buffer, std::min<size_t>(n, 256));
            if (error) break;
        }
        if (error == asio::error::eof) error = {};
    }
    deadline.cancel();
    if (error) {
        log::error("Pre-starting {}: {}", url, error.message());
        co_return;
    }
    log::notice("Pre-started {}: {}", url, response.substr(0, response.find('\r')));
}

}  // namespace

std::variant<PreStartTarget, std::string> parse_pre_start_url(const std::string& url) {
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme)) return std::string("not an http:// URL");
    std::string rest = url.substr(scheme.size());
    size_t path_start = rest.find('/');
    std::string authority = rest.substr(0, path_start);
    PreStartTarget target;
    target.path = path_start == std::string::npos ? "/" : rest.substr(path_start);
    size_t port_colon = authority.rfind(':');
    if (port_colon != std::string::npos && authority.find(']', port_colon) == std::string::npos) {
        target.port = authority.substr(port_colon + 1);
        authority.resize(port_colon);
        if (target.port.empty() ||
            target.port.find_first_not_of("0123456789") != std::string::npos ||
            target.port.size() > 5)
            return std::string("the port is not a number");
    } else {
        target.port = "80";
    }
    if (authority.empty()) return std::string("no host");
    if (authority.starts_with('[') != authority.ends_with(']'))
        return std::string("a bad IPv6 host");
    target.host = authority;
    return target;
}

void pre_start(asio::io_context& io, const std::string& url) {
    auto parsed = parse_pre_start_url(url);
    if (auto* reason = std::get_if<std::string>(&parsed)) {
        log::error("passenger_pre_start {}: {}", url, *reason);
        return;
    }
    asio::co_spawn(io, request_url(url, std::get<PreStartTarget>(parsed)), asio::detached);
}

}  // namespace passenger::server

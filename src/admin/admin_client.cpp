#include "admin/admin_client.hpp"

#include "http/message_reader.hpp"

#include <fmt/format.h>
#include <sys/un.h>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/local/stream_protocol.hpp>
#include <asio/steady_timer.hpp>
#include <asio/write.hpp>

#include <optional>

namespace passenger::admin {
namespace {

using Socket = asio::local::stream_protocol::socket;
using Outcome = std::variant<AdminReply, std::string>;
constexpr size_t kMaxReplyHead = 64 * 1024;
constexpr size_t kMaxReplyBody = 64 * 1024 * 1024;

std::string connect_failure(const std::string& socket_path, const asio::error_code& error) {
    if (error == asio::error::access_denied || error == asio::error::no_permission)
        return fmt::format(
            "permission denied on {}: only root and the user the server runs as may use it",
            socket_path);
    if (error == asio::error::connection_refused || error.value() == ENOENT)
        return fmt::format("the server does not answer on {} (is it restarting?)", socket_path);
    return fmt::format("cannot connect to {}: {}", socket_path, error.message());
}

asio::awaitable<Outcome> exchange(Socket& socket, const std::string& socket_path,
                                  std::string request) {
    asio::error_code error;
    co_await socket.async_connect(asio::local::stream_protocol::endpoint(socket_path),
                                  asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return connect_failure(socket_path, error);
    co_await asio::async_write(socket, asio::buffer(request),
                               asio::redirect_error(asio::use_awaitable, error));
    if (error) co_return fmt::format("cannot send to {}: {}", socket_path, error.message());

    http::MessageReader<Socket> reader(socket, http::MessageParser::Kind::response, kMaxReplyHead);
    if (co_await reader.read_head() != http::ReadStatus::ok)
        co_return fmt::format("the server closed {} without answering", socket_path);
    AdminReply reply;
    reply.status = reader.head().status;
    if (const std::string* type = reader.head().find("content-type")) reply.content_type = *type;
    while (!reader.parser().message_complete()) {
        if (co_await reader.read_body(reply.body) != http::ReadStatus::ok)
            co_return fmt::format("the answer on {} was cut short", socket_path);
        if (reply.body.size() > kMaxReplyBody)
            co_return fmt::format("the answer on {} is too large", socket_path);
    }
    co_return reply;
}

}  // namespace

Outcome call_admin(const std::string& socket_path, std::string_view method, std::string_view target,
                   std::string_view body, std::chrono::milliseconds timeout) {
    if (socket_path.size() >= sizeof(sockaddr_un::sun_path))
        return fmt::format("admin socket path {} is too long", socket_path);
    std::string request =
        fmt::format("{} {} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n", method, target);
    if (!body.empty())
        request +=
            fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body.size());
    else if (method != "GET" && method != "HEAD")
        request += "Content-Length: 0\r\n";
    request += "\r\n";
    request += body;

    asio::io_context io(1);
    Socket socket(io);
    std::optional<Outcome> result;
    bool timed_out = false;
    asio::steady_timer timer(io, timeout);
    timer.async_wait([&](const asio::error_code& error) {
        if (error) return;
        timed_out = true;
        asio::error_code ignored;
        socket.close(ignored);
    });
    asio::co_spawn(io, exchange(socket, socket_path, std::move(request)),
                   [&](std::exception_ptr failure, Outcome outcome) {
                       if (failure)
                           result = std::string("unexpected error while talking to the server");
                       else
                           result = std::move(outcome);
                       timer.cancel();
                   });
    io.run();
    if (timed_out)
        return fmt::format(
            "no answer on {} within {} s (is the core stopped or hung? passenger-memory-stats "
            "still works)",
            socket_path, static_cast<double>(timeout.count()) / 1000.0);
    return result ? std::move(*result) : Outcome(std::string("no answer from the server"));
}

}  // namespace passenger::admin

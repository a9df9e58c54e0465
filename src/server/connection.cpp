#include "server/connection.hpp"

#include "common/log.hpp"
#include "http/error_page.hpp"
#include "proxy/forward.hpp"

#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace passenger::server {
namespace {

constexpr size_t max_request_head = 64 * 1024;

asio::awaitable<bool> write_all(asio::ip::tcp::socket& socket, std::string_view data) {
    asio::error_code error;
    co_await asio::async_write(socket, asio::buffer(data.data(), data.size()),
                               asio::redirect_error(asio::use_awaitable, error));
    co_return !error;
}

std::string_view header_or_empty(const http::MessageHead& head, std::string_view name) {
    const std::string* value = head.find(name);
    return value ? std::string_view(*value) : std::string_view();
}

// Serves the request from public/ when it names a file there; returns false when it does not.
asio::awaitable<bool> try_static(const Server& server, asio::ip::tcp::socket& socket,
                                 const http::MessageHead& head, bool keep_alive, bool& written) {
    if (head.has_body() || (head.method != "GET" && head.method != "HEAD")) co_return false;
    std::string_view target = head.target;
    if (!target.starts_with('/')) co_return false;
    static_files::StaticRequest request{
        .method = head.method,
        .path = target.substr(0, target.find('?')),
        .if_none_match = header_or_empty(head, "if-none-match"),
        .if_modified_since = header_or_empty(head, "if-modified-since"),
        .range = header_or_empty(head, "range"),
        .if_range = header_or_empty(head, "if-range"),
    };
    auto response = server.static_files().lookup(request);
    if (!response) co_return false;
    response->head.add("Date", std::string(http::http_date_now()));
    if (!keep_alive) response->head.add("Connection", "close");
    std::string out = response->head.serialize();
    out += response->inline_body;
    written = co_await write_all(socket, out);
    if (written && response->length > 0) {
        written = !co_await static_files::send_file(socket, response->file.get(), response->offset,
                                                    response->length);
    }
    co_return true;
}

std::string client_address(const asio::ip::tcp::socket& socket) {
    asio::error_code error;
    auto endpoint = socket.remote_endpoint(error);
    if (error) return "unknown";
    auto address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
    return address.to_string();
}

asio::awaitable<bool> reject(asio::ip::tcp::socket& socket, const std::string& address, int status,
                             std::string_view why) {
    log::notice("Rejected request from {}: {} ({})", address, status, why);
    co_await write_all(
        socket, http::error_response(status, "<p>" + http::html_escape(why) + "</p>", false));
    co_return false;
}

// Answers one request whose head has been read; returns whether the connection continues.
asio::awaitable<bool> serve_request(Server& server, proxy::ClientReader& reader,
                                    const std::string& address) {
    const http::MessageHead& head = reader.head();
    bool keep_alive = head.keep_alive && !server.shutting_down();
    auto& socket = reader.stream();

    // RFC 9112 3.2: a server must answer 400 to an HTTP/1.1 request without Host.
    if (head.http_major == 1 && head.http_minor >= 1 && head.find("host") == nullptr)
        co_return co_await reject(socket, address, 400, "HTTP/1.1 request without Host header");
    if (const std::string* expect = head.find("expect")) {
        if (!http::iequals(*expect, "100-continue"))
            co_return co_await reject(socket, address, 417, "unsupported Expect header");
        if (head.has_body() && !co_await write_all(socket, "HTTP/1.1 100 Continue\r\n\r\n"))
            co_return false;
    }
    bool written = false;
    if (co_await try_static(server, socket, head, keep_alive, written))
        co_return written&& keep_alive;

    proxy::ClientContext context{reader, address, keep_alive};
    bool continues = co_await proxy::forward(context, server.group());
    // A request whose body was not read completely leaves the connection unusable.
    co_return continues&& reader.parser().message_complete() && !server.shutting_down();
}

}  // namespace

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Server& server) {
    auto registration = server.register_connection(socket);
    asio::error_code ignored;
    socket.set_option(asio::ip::tcp::no_delay(true), ignored);
    const std::string address = client_address(socket);
    proxy::ClientReader reader(socket, http::MessageParser::Kind::request, max_request_head);

    for (;;) {
        registration->busy = false;
        http::ReadStatus status = co_await reader.read_head();
        registration->busy = true;
        if (status == http::ReadStatus::closed || status == http::ReadStatus::truncated) break;
        if (status == http::ReadStatus::parse_error) {
            co_await reject(socket, address, 400, reader.parser().error_reason());
            break;
        }
        if (status == http::ReadStatus::too_large) {
            co_await reject(socket, address, 431, "request header fields too large");
            break;
        }
        if (!co_await serve_request(server, reader, address)) break;
        reader.next_message();
    }
    socket.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket.close(ignored);
    server.unregister_connection(registration);
}

}  // namespace passenger::server

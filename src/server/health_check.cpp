#include "server/health_check.hpp"

#include "http/response_head.hpp"
#include "server/server.hpp"

#include <fmt/format.h>

namespace passenger::server {
namespace {

bool healthy(Server& server) {
    if (server.shutting_down() || server.draining()) return false;
    for (const HostApp* app : server.host_apps().all())
        if (!server.pool().group_for(app->options).can_take_requests()) return false;
    return true;
}

}  // namespace

bool is_health_check(Server& server, const http::MessageHead& head) {
    const std::string& path = server.options().operations.health_check_path;
    if (path.empty() || server.integration_apps() != nullptr || head.has_body()) return false;
    if (head.method != "GET" && head.method != "HEAD") return false;
    std::string_view target = head.target;
    return target.substr(0, target.find('?')) == path;
}

asio::awaitable<std::string> health_check_response(Server& server, const http::MessageHead& head,
                                                   bool keep_alive) {
    auto check = [&server] { return healthy(server); };
    const bool ok = co_await server.on_main_loop(check);
    const std::string_view body = ok ? "ok\n" : server.draining() ? "draining\n" : "unavailable\n";
    std::string out = fmt::format(
        "HTTP/1.1 {} {}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nCache-Control: "
        "no-store\r\nDate: {}\r\n{}\r\n",
        ok ? 200 : 503, http::reason_phrase(ok ? 200 : 503), body.size(), http::http_date_now(),
        keep_alive ? "" : "Connection: close\r\n");
    if (head.method != "HEAD") out += body;
    co_return out;
}

}  // namespace passenger::server

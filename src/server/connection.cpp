#include "server/connection.hpp"

#include "common/log.hpp"
#include "common/socket_deadline.hpp"
#include "http/error_page.hpp"
#include "http/https_redirect.hpp"
#include "http/request_sanitizer.hpp"
#include "http/write_helpers.hpp"
#include "proxy/client_writer.hpp"
#include "proxy/forward.hpp"
#include "server/health_check.hpp"
#include "server/integration_channel.hpp"
#include "server/parked_connection.hpp"
#include "server/request_body.hpp"
#include "server/request_report.hpp"
#include "tls/tls_socket.hpp"

#include <sys/socket.h>
#include <unistd.h>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <optional>
#include <type_traits>

namespace passenger::server {
namespace {

using http::write_all;

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

// After an error response to a request whose body is still arriving, the rest is read and
// dropped for a while before the connection closes (nginx's lingering close): closing with
// unread bytes would reset the connection, and the client might lose the response.
constexpr auto linger_read_timeout = 5s;
constexpr auto linger_total = 30s;
// After a 408 the client may still be trickling bytes (slowloris): the same, but briefly, so that
// a slow client cannot hold the connection much past its timeout. Without it the response was
// lost under load: closed with unread bytes, the socket was reset before the 408 had left it.
constexpr auto linger_after_timeout = 2s;

// What a client's stream rests on: the TCP connection (for plain HTTP the stream itself), which
// the connection's deadline cancels and its registration points at; an HTTP/2 stream has none and
// stands for itself.
asio::ip::tcp::socket& lowest_layer(asio::ip::tcp::socket& socket) {
    return socket;
}
asio::ip::tcp::socket& lowest_layer(tls::TlsSocket& socket) {
    return socket.lowest_layer();
}
http::Http2StreamSocket& lowest_layer(http::Http2StreamSocket& stream) {
    return stream;
}

// An HTTP/2 stream's address comes with its ConnectionOrigin.
std::string address_of_peer(asio::ip::tcp::socket& socket) {
    return peer_address(socket);
}
std::string address_of_peer(http::Http2StreamSocket&) {
    return "unknown";
}

// What a connection says before it closes: TLS, close_notify; a plain socket or an h2 stream,
// nothing (closing is enough).
void say_goodbye(tls::TlsSocket& socket) {
    socket.close_notify();
}
void say_goodbye(asio::ip::tcp::socket&) {}
void say_goodbye(http::Http2StreamSocket&) {}

void point_registration(Server::ConnectionEntry& entry, asio::ip::tcp::socket& socket) {
    entry.socket = &socket;
}
void point_registration(Server::ConnectionEntry& entry, http::Http2StreamSocket& stream) {
    entry.stream = &stream;
}

std::string_view header_or_empty(const http::MessageHead& head, std::string_view name) {
    const std::string* value = head.find(name);
    return value ? std::string_view(*value) : std::string_view();
}

// The file under public/ that the request names, if any: looked up without a coroutine, so a
// request for the app costs no frame here.
std::optional<static_files::StaticResponse> static_file_for(const static_files::StaticFiles& files,
                                                            const http::MessageHead& head) {
    if (head.has_body() || (head.method != "GET" && head.method != "HEAD")) return std::nullopt;
    std::string_view target = head.target;
    if (!target.starts_with('/')) return std::nullopt;
    static_files::StaticRequest request{
        .method = head.method,
        .path = target.substr(0, target.find('?')),
        .if_none_match = header_or_empty(head, "if-none-match"),
        .if_modified_since = header_or_empty(head, "if-modified-since"),
        .range = header_or_empty(head, "range"),
        .if_range = header_or_empty(head, "if-range"),
    };
    return files.lookup(request);
}

// Serves a file from public/; returns whether all of it was written.
template <typename Stream>
asio::awaitable<bool> send_static(static_files::StaticResponse& response,
                                  proxy::ClientWriter<Stream>& writer, bool keep_alive) {
    response.head.add("Date", std::string(http::http_date_now()));
    if (!keep_alive) response.head.add("Connection", "close");
    std::string out = response.head.serialize();
    out += response.inline_body;
    writer.queue(out);
    // Through the client's writer, so a client that stops reading meets the send timeout.
    co_return response.length > 0
        ? co_await writer.send_file(response.file.get(), static_cast<uint64_t>(response.offset),
                                    response.length)
        : co_await writer.finish();
}

// Every X-Forwarded-For line of the head, joined as one list.
std::string forwarded_for(const http::MessageHead& head) {
    std::string joined;
    for (const auto& [name, value] : head.headers) {
        if (!http::iequals(name, "x-forwarded-for")) continue;
        if (!joined.empty()) joined.append(", ");
        joined.append(value);
    }
    return joined;
}

// A tunnel outlives the coroutines that answered its request (proxy/tunnel.hpp): the request's
// access log entry (whose head is gone by then), its passenger-status record and the
// connection's registration end when the tunnel does.
struct TunnelEnd {
    admin::RequestRegistry::Handle record;
    std::string method, referer, user_agent;  // what the entry's views point to
    AccessLogEntry entry;
};

// One client connection: its socket, its one deadline timer, the reader of its requests, the
// writer of its responses and the buffer of a request body. `Stream`: asio::ip::tcp::socket,
// tls::TlsSocket for HTTPS, or http::Http2StreamSocket for an HTTP/2 stream (each served the same
// way, without a socket pair).
template <typename Stream>
class ClientConnection {
  public:
    // `registration`: a parked connection's, which continues (its first head is not the first)
    // and keeps its origin.
    ClientConnection(Stream socket, Server& server, ConnectionOrigin origin,
                     std::optional<Server::ConnectionHandle> registration = std::nullopt)
        : server_(server),
          settings_(server.front_end()),
          socket_(std::move(socket)),
          // From the nginx module, the client's address comes in the preamble (begin_channel).
          address_(!origin.address.empty()     ? origin.address
                   : server.integration_apps() ? std::string()
                                               : address_of_peer(lowest_layer(socket_))),
          https_(origin.https),
          http2_(origin.http2),
          peer_trusted_(server.integration_apps() == nullptr &&
                        server.trusted_proxies().trusts(address_)),
          registration_(registration),
          deadline_(lowest_layer(socket_), settings_.timer_granularity),
          reader_(socket_, http::MessageParser::Kind::request, settings_.max_head_size),
          writer_(socket_, settings_.response_buffer, deadline_, settings_.send_timeout),
          request_body_(settings_.request_buffer) {
        reader_.parser().set_limits(settings_.head_limits);
    }

    asio::awaitable<void> run();

  private:
    asio::awaitable<bool> begin_channel();
    void apply_configuration(const std::string& payload);
    asio::awaitable<bool> serve_request();
    asio::awaitable<bool> answer_request(admin::RequestRecord& record, bool keep_alive);
    asio::awaitable<bool> read_body(bool expects_continue);
    // `linger_for`: how long the rest of the request may still be read and dropped (none: zero).
    asio::awaitable<bool> reject(int status, std::string why,
                                 Clock::duration linger_for = Clock::duration::zero());
    asio::awaitable<bool> reject(int status, std::string why, bool linger) {
        return reject(status, std::move(why),
                      linger ? Clock::duration(linger_total) : Clock::duration::zero());
    }
    asio::awaitable<void> linger(Clock::duration total);
    void release_idle_memory();
    bool park(Server::ConnectionHandle registration, std::chrono::steady_clock::duration left);
    proxy::TunnelClient<Stream> detach_for_tunnel();

    Server& server_;
    const FrontEndSettings& settings_;
    Stream socket_;
    std::string address_;  // in integration mode, the address nginx's client connected from
    bool https_;  // the client came over TLS (--ssl), or nginx's client did (integration mode)
    bool http2_;  // this connection is an HTTP/2 stream's
    bool peer_trusted_;  // --trusted-proxy: its X-Forwarded-For names the real client
    std::optional<Server::ConnectionHandle> registration_;
    SocketDeadline deadline_;
    http::MessageReader<Stream> reader_;
    proxy::ClientWriter<Stream> writer_;
    http::BodyBuffer request_body_;
    std::string scratch_;
    proxy::HeadStorage heads_;  // the heads of its requests to the app and of their responses
    // Integration mode: the app the module's settings block named (or why there is none).
    IntegrationApps::App app_;
    const HostApp* host_app_ = nullptr;       // Standalone: the request's app (--app by Host)
    proxy::ForwardOutcome outcome_;           // of the request being answered
    admin::RequestRegistry::Handle request_;  // its passenger-status record
    std::chrono::system_clock::time_point arrived_;  // its head was read
    bool detached_ = false;  // a tunnel took the socket and the registration
};

template <typename Stream>
asio::awaitable<void> ClientConnection<Stream>::run() {
    const bool resumed = registration_.has_value();
    if (resumed) {
        point_registration(**registration_, lowest_layer(socket_));
    } else {
        // The address is kept for a parked connection's next request (it is not asked again).
        registration_ = server_.register_connection(lowest_layer(socket_),
                                                    ConnectionOrigin{address_, https_, http2_});
    }
    auto registration = *registration_;
    asio::error_code ignored;
    // (Nagle's algorithm is off from the accept on: the listener's TCP_NODELAY, server.cpp.)
    // The first head has the header timeout from the accept on; later ones get the keep-alive
    // timeout until their first bytes arrive, then the header timeout. A head that arrives in
    // one read (the usual case) never touches the timer. A connection idle for park_after is
    // parked with the rest of its keep-alive timeout (this coroutine ends). Connections from the
    // nginx module (kept alive by its workers, channel version 3) start every request with its
    // channel preamble: never parked, the preamble is read before each head.
    const auto keepalive = settings_.keepalive_timeout;
    const bool channel = server_.integration_apps() != nullptr;
    // A TLS connection's state is more than its descriptor: it waits here.
    constexpr bool can_park = std::is_same_v<Stream, asio::ip::tcp::socket>;
    bool parks = can_park && (keepalive == keepalive.zero() || keepalive > park_after) && !channel;
    if (!resumed) deadline_.expires_after(settings_.header_timeout);
    for (bool first = !resumed;; first = false) {
        registration->busy = false;
        if (!reader_.has_buffered_bytes()) {
            if (!first) deadline_.expires_after(parks ? park_after : keepalive);
            // Idle until the client sends something; no read buffer is held meanwhile. Bytes
            // that are there already cost no coroutine. After a proxied request on a plain
            // socket the wait is the receive its client-gone watch left pending (no syscall
            // here), whose bytes are taken at once.
            std::optional<bool> ready = reader_.readable_now();
            if (!ready) {
                release_idle_memory();
                co_await reader_.until_readable();
                ready = !reader_.last_error();
                if constexpr (http::MessageReader<Stream>::can_wait_by_receiving)
                    if (*ready) ready = reader_.readable_now().value_or(true);
            }
            bool readable = *ready;
            if (!readable && !first && parks && deadline_.expired() && !server_.shutting_down()) {
                auto left = keepalive == keepalive.zero() ? keepalive : keepalive - park_after;
                if (park(registration, left)) co_return;
                // The lot could not take it (no descriptor left): it waits here instead.
                parks = false;
                deadline_.expires_after(left);
                readable = co_await reader_.wait_readable();
            }
            if (!readable) {
                if (deadline_.expired()) log::debug("Closed an idle connection from {}", address_);
                break;
            }
        }
        if constexpr (can_park) {  // the nginx module's connections are plain
            if (channel && !co_await begin_channel()) break;
        }
        bool head_timer = first;
        // A head that arrived whole (the usual case) is parsed without a coroutine.
        std::optional<http::ReadStatus> read = reader_.read_buffered_head();
        if (!read) {
            read = co_await reader_.read_head([&](size_t head_bytes) {
                if (head_bytes > 0 && !head_timer) {
                    head_timer = true;
                    deadline_.expires_after(settings_.header_timeout);
                }
            });
        }
        const http::ReadStatus status = *read;
        registration->busy = true;
        const bool timed_out = deadline_.expired();
        deadline_.disarm();
        if (status == http::ReadStatus::closed) {
            if (timed_out) log::debug("Closed an idle connection from {}", address_);
            break;
        }
        if (status == http::ReadStatus::truncated) {
            if (timed_out)
                co_await reject(408, "The request head did not arrive in time.",
                                linger_after_timeout);
            break;
        }
        if (status == http::ReadStatus::parse_error) {
            co_await reject(reader_.parser().error_status(), reader_.parser().error_reason());
            break;
        }
        if (status == http::ReadStatus::too_large) {
            co_await reject(431, "request header fields too large");
            break;
        }
        bool continues = co_await serve_request();
        request_body_.clear();
        if (!continues) break;
        reader_.next_message();
    }
    if (detached_) co_return;
    // No shutdown() first: close() sends the FIN itself (and a reset when input is left unread,
    // shut down or not: the paths that may leave some linger first, reject()). A TLS client
    // gets close_notify; an h2 stream's close ends its response.
    say_goodbye(socket_);
    socket_.close(ignored);
    server_.unregister_connection(registration);
}

template <typename Stream>
bool ClientConnection<Stream>::park(Server::ConnectionHandle registration,
                                    std::chrono::steady_clock::duration left) {
    if constexpr (std::is_same_v<Stream, asio::ip::tcp::socket>) {
        return park_connection(socket_, server_, registration, left);
    } else {
        return false;
    }
}

// From the nginx module, every request starts with the app's settings and the request's fields
// (server/integration_channel.hpp); returns false when they are unusable.
template <typename Stream>
asio::awaitable<bool> ClientConnection<Stream>::begin_channel() {
    IntegrationApps* apps = server_.integration_apps();
    ChannelPreamble preamble;
    std::string error = co_await read_channel_preamble(reader_, preamble);
    if (!error.empty()) {
        if (error != "closed") log::error("Refused a connection from the nginx module: {}", error);
        co_return false;
    }
    if (preamble.is_configuration) {
        apply_configuration(preamble.configuration);
        co_return false;
    }
    address_ = std::move(preamble.fields.client_address);
    https_ = preamble.fields.https;
    app_ = apps->app_for(preamble.settings_block);
    co_return true;
}

// nginx's configuration message, relayed by the watchdog: only the watchdog (this core's parent)
// may send one; nginx's workers can open the socket too, but they only carry requests.
template <typename Stream>
void ClientConnection<Stream>::apply_configuration(const std::string& payload) {
    ucred peer{};
    socklen_t length = sizeof peer;
    if (::getsockopt(lowest_layer(socket_).native_handle(), SOL_SOCKET, SO_PEERCRED, &peer,
                     &length) != 0 ||
        peer.pid != ::getppid()) {
        log::error("Refused a configuration message from process {}: only the watchdog sends them",
                   peer.pid);
        return;
    }
    auto configuration = config::parse_module_configuration(payload);
    if (auto* reason = std::get_if<std::string>(&configuration)) {
        log::error("Refused nginx's configuration message: {}", *reason);
        return;
    }
    server_.apply_module_configuration(std::get<config::ModuleConfiguration>(configuration));
}

// While a connection waits for its next request it holds no buffer and no head storage; they
// are allocated again when bytes arrive.
template <typename Stream>
void ClientConnection<Stream>::release_idle_memory() {
    reader_.parser().release_storage();
    writer_.release_memory();
    request_body_.release();
    std::string().swap(scratch_);
    heads_.release();
}

// Answers one request whose head has been read; returns whether the connection continues.
template <typename Stream>
asio::awaitable<bool> ClientConnection<Stream>::serve_request() {
    http::MessageHead& head = reader_.parser().head();
    // Draining: every response closes its connection, so none is left idle when the listener
    // closes (a balancer's request on it then would fail).
    const bool keep_alive = head.keep_alive && !server_.shutting_down() && !server_.draining();
    if (is_health_check(server_, head)) {  // not an app request: not listed, not logged
        scratch_.clear();
        reader_.read_buffered_body(scratch_);
        co_return co_await write_all(socket_,
                                     co_await health_check_response(server_, head, keep_alive)) &&
            keep_alive;
    }
    // Listed by passenger-status --show=requests until answered.
    const bool integration = server_.integration_apps() != nullptr;
    std::string client = peer_trusted_
                             ? server_.trusted_proxies().real_client(forwarded_for(head), address_)
                             : address_;
    host_app_ = integration ? nullptr : &server_.host_apps().for_request(head);
    request_ = server_.requests().track(
        head.method, head.target, client,
        integration ? (app_.options ? app_.options->app_root : server_.options().app_root)
                    : host_app_->options->app_root,
        ConnectionOrigin{{}, https_, http2_}.protocol());
    outcome_ = {};
    arrived_ = std::chrono::system_clock::now();
    const uint64_t written_before = writer_.bytes_accepted();
    const bool continues = co_await answer_request(*request_, keep_alive);
    if (detached_) co_return false;  // reported when the tunnel ends
    // The access log and the metrics hear of every request the front end answered.
    const RequestTraffic traffic{arrived_, writer_.bytes_accepted() - written_before,
                                 request_body_.size()};
    server_.on_request_done(request_report(head, *request_, outcome_, traffic), request_->app_root);
    request_.reset();
    co_return continues;
}

// Answers one request (checks, static file, body, app); returns whether the connection
// continues. `record` is its passenger-status entry.
template <typename Stream>
asio::awaitable<bool> ClientConnection<Stream>::answer_request(admin::RequestRecord& record,
                                                               bool keep_alive) {
    http::MessageHead& head = reader_.parser().head();
    const bool integration = server_.integration_apps() != nullptr;
    if (http::Rejection rejection = http::check_request_head(head))
        co_return co_await reject(rejection.status, std::string(rejection.reason), head.has_body());
    if (http::Rejection rejection = http::normalize_request_target(head))
        co_return co_await reject(rejection.status, std::string(rejection.reason));
    bool expects_continue = false;
    if (const std::string* expect = head.find("expect")) {
        if (!http::iequals(*expect, "100-continue"))
            co_return co_await reject(417, "unsupported Expect header", head.has_body());
        expects_continue = head.has_body();
    }
    if (settings_.max_body_size != 0 && head.content_length.value_or(0) > settings_.max_body_size)
        co_return co_await reject(413, "The request body is larger than the server accepts.", true);

    // --ssl-redirect: plain HTTP only says where HTTPS is.
    if (!https_ && server_.options().ssl_redirect && !integration) {
        std::string response =
            http::https_redirect_response(head, server_.options().ssl_port, keep_alive);
        if (response.empty()) co_return co_await reject(400, "no Host header to redirect with");
        writer_.queue(response);
        co_return co_await writer_.finish() && keep_alive;
    }

    record.state = admin::RequestState::serving_static_file;
    // Behind nginx, nginx serves the files.
    if (std::optional<static_files::StaticResponse> file =
            integration ? std::nullopt : static_file_for(host_app_->static_files(), head)) {
        outcome_.status = file->head.status;
        co_return co_await send_static(*file, writer_, keep_alive) && keep_alive;
    }

    // Upgrade requests too (they have no body: check_request_head).
    record.state = admin::RequestState::reading_body;
    if (head.has_body()) {
        if (!co_await read_body(expects_continue)) co_return false;
    } else {
        // Right after its head, a bodiless message completes on an (empty) feed.
        scratch_.clear();
        reader_.read_buffered_body(scratch_);
    }
    proxy::ClientContext<Stream> context{reader_,       address_,      https_,
                                         peer_trusted_, request_body_, keep_alive};
    context.writer = &writer_;
    context.heads = &heads_;
    context.detach_for_tunnel = [this] { return detach_for_tunnel(); };
    record.state = admin::RequestState::for_app;
    context.process_pid = &record.pid;
    context.outcome = &outcome_;
    if (integration && !app_.options)
        co_return co_await reject(500, "The app's settings are not usable: " + app_.error);
    const auto& app_options = integration ? app_.options : host_app_->options;
    pool::Group* group = server_.group_here(app_options);
    if (group == nullptr) group = co_await server_.group_for(app_options);
    bool continues = co_await proxy::forward(context, *group);
    server_.done_with_group(*group);
    record.state = admin::RequestState::sending_response;
    // The app is free already; the client may still be receiving the response.
    std::optional<bool> finished = writer_.finish_now();
    if (!finished) finished = co_await writer_.finish();
    // The writer's wait ran out: a client that stopped reading (an HTTP/2 stream without window).
    if (!*finished && deadline_.expired())
        log::notice(
            "Dropped the response to {} {} for {}: the client took nothing more of it for "
            "--send-timeout ({} s)",
            head.method, head.target, address_, settings_.send_timeout.count());
    // A request whose body was not read completely leaves the connection unusable.
    const bool next_request = *finished && continues && reader_.parser().message_complete() &&
                              keep_alive && !server_.shutting_down();
    co_return next_request;
}

// Reads the whole request body into request_body_, or answers with an error and returns false.
template <typename Stream>
asio::awaitable<bool> ClientConnection<Stream>::read_body(bool expects_continue) {
    if (expects_continue && !co_await write_all(socket_, "HTTP/1.1 100 Continue\r\n\r\n"))
        co_return false;
    BodyReadLimits limits{settings_.max_body_size, settings_.body_timeout};
    switch (co_await read_request_body(reader_, request_body_, scratch_, limits, deadline_)) {
        case BodyReadResult::complete:
            co_return true;
        case BodyReadResult::too_large:
            co_return co_await reject(413, "The request body is larger than the server accepts.",
                                      true);
        case BodyReadResult::timed_out:
            co_return co_await reject(408, "The request body did not arrive in time.",
                                      linger_after_timeout);
        case BodyReadResult::client_gone:
            co_return false;
        case BodyReadResult::invalid:
            co_return co_await reject(reader_.parser().error_status(),
                                      reader_.parser().error_reason(), true);
        case BodyReadResult::no_space:
            co_return co_await reject(507, "The server has no room to buffer the request body.",
                                      true);
        case BodyReadResult::storage_failed:
            co_return co_await reject(500, "The request body could not be buffered.", true);
    }
    co_return false;
}

// The request became a tunnel: it takes the socket, and this connection ends without closing it
// or unregistering. Shutdown closes the tunnel at once like an idle connection (not busy).
template <typename Stream>
proxy::TunnelClient<Stream> ClientConnection<Stream>::detach_for_tunnel() {
    detached_ = true;
    const http::MessageHead& head = reader_.head();
    auto end = std::make_shared<TunnelEnd>();
    end->method = head.method;
    end->referer = header_or_empty(head, "referer");
    end->user_agent = header_or_empty(head, "user-agent");
    end->entry = request_report(head, *request_, outcome_, {arrived_, 0, request_body_.size()});
    end->entry.method = end->method;
    end->entry.referer = end->referer;
    end->entry.user_agent = end->user_agent;
    end->record = std::move(request_);
    Server& server = server_;
    const Server::ConnectionHandle registration = *registration_;
    return proxy::TunnelClient<Stream>{
        .socket = std::move(socket_),
        .send_timeout = settings_.send_timeout,
        .opened =
            [registration](Stream& socket) {
                point_registration(*registration, lowest_layer(socket));
                registration->busy = false;
            },
        .ended =
            [end, &server, registration](uint64_t bytes_to_client) {
                end->entry.bytes_out = bytes_to_client;
                end->entry.total_seconds =
                    std::chrono::duration<double>(Clock::now() - end->record->started).count();
                server.on_request_done(end->entry, end->record->app_root);
                end->record.reset();
                server.unregister_connection(registration);
            },
    };
}

// Answers with an error page and ends the connection (returns false).
template <typename Stream>
asio::awaitable<bool> ClientConnection<Stream>::reject(int status, std::string why,
                                                       Clock::duration linger_for) {
    log::notice("Rejected request from {}: {} ({})", address_, status, why);
    deadline_.expires_after(settings_.send_timeout);
    std::string page = http::error_response(status, "<p>" + http::html_escape(why) + "</p>", false);
    outcome_.status = status;
    outcome_.error_page_bytes = page.size();
    bool written = co_await write_all(socket_, page);
    if (written && linger_for > Clock::duration::zero()) co_await linger(linger_for);
    deadline_.disarm();
    co_return false;
}

template <typename Stream>
asio::awaitable<void> ClientConnection<Stream>::linger(Clock::duration total) {
    asio::error_code error;
    socket_.shutdown(Stream::shutdown_send, error);
    std::array<char, 4096> discard;
    const auto until = Clock::now() + total;
    for (auto now = Clock::now(); !error && now < until; now = Clock::now()) {
        deadline_.expires_after(std::min<Clock::duration>(linger_read_timeout, until - now));
        co_await socket_.async_read_some(asio::buffer(discard),
                                         asio::redirect_error(asio::use_awaitable, error));
    }
}

}  // namespace

std::string peer_address(const asio::ip::tcp::socket& socket) {
    asio::error_code error;
    auto endpoint = socket.remote_endpoint(error);
    return error ? "unknown" : address_text(endpoint);
}

asio::awaitable<void> serve_connection(asio::ip::tcp::socket socket, Server& server,
                                       ConnectionOrigin origin) {
    ClientConnection<asio::ip::tcp::socket> connection(std::move(socket), server,
                                                       std::move(origin));
    co_await connection.run();
}

asio::awaitable<void> serve_connection(tls::TlsSocket socket, Server& server,
                                       ConnectionOrigin origin) {
    ClientConnection<tls::TlsSocket> connection(std::move(socket), server, std::move(origin));
    co_await connection.run();
}

asio::awaitable<void> serve_connection(http::Http2StreamSocket stream, Server& server,
                                       ConnectionOrigin origin) {
    ClientConnection<http::Http2StreamSocket> connection(std::move(stream), server,
                                                         std::move(origin));
    co_await connection.run();
}

asio::awaitable<void> serve_parked_connection(std::unique_ptr<ParkedConnection> parked) {
    ClientConnection<asio::ip::tcp::socket> connection(std::move(parked->socket), parked->server,
                                                       parked->registration->origin,
                                                       parked->registration);
    parked.reset();
    co_await connection.run();
}

}  // namespace passenger::server

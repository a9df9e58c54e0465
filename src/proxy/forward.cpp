#include "proxy/forward.hpp"

#include "common/file_limit.hpp"
#include "common/log.hpp"
#include "http/error_page.hpp"
#include "http/http2_stream_socket.hpp"
#include "http/write_helpers.hpp"
#include "proxy/client_gone_watch.hpp"
#include "proxy/client_watch.hpp"
#include "proxy/message_heads.hpp"
#include "proxy/request_deadline.hpp"
#include "proxy/request_sender.hpp"
#include "proxy/response_relay.hpp"
#include "proxy/sticky_cookie.hpp"
#include "proxy/tunnel.hpp"
#include "tls/tls_socket.hpp"

#include <fmt/format.h>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace passenger::proxy {
namespace {

using http::write_all;

using pool::AppSocket;
constexpr size_t max_app_response_head = 64 * 1024;

// Methods a client may send again without changing the result (RFC 9110 9.2.2).
bool is_idempotent(std::string_view method) {
    return method == "GET" || method == "HEAD" || method == "PUT" || method == "DELETE" ||
           method == "OPTIONS" || method == "TRACE";
}

// After a connection failed before any response byte: whether the app certainly did not act on
// the request. None of it was written; or, for a request that may run twice anyway, the
// connection was reset (the kernel resets a connection closed with bytes unread or never
// accepted: the app died, or closed it, without reading all of the request). A plain close
// (EOF) says nothing: the app may have read it all and died working on it.
bool app_did_not_take_it(Sending sending, const AppReader& app, bool idempotent) {
    if (sending == Sending::failed_unsent) return true;
    if (!idempotent) return false;
    const asio::error_code error = app.last_error();
    return sending == Sending::failed || error == asio::error::connection_reset ||
           error == asio::error::broken_pipe;
}

template <typename Stream>
asio::awaitable<bool> send_error(ClientContext<Stream>& client, int status,
                                 std::string_view detail_html) {
    std::string page = http::error_response(status, detail_html, false);
    if (client.outcome) {
        client.outcome->status = status;
        client.outcome->error_page_bytes = page.size();
    }
    co_await write_all(client.reader.stream(), page);
    co_return false;
}

// The request reached no process: the one it went to, and those it tried after, could not be
// connected to or reset it unread.
template <typename Stream>
asio::awaitable<bool> send_unreachable(ClientContext<Stream>& client) {
    return send_error(client, 502, "<p>The application process could not be reached.</p>");
}

template <typename Stream>
void mark(ClientContext<Stream>& client, ForwardOutcome::Clock::time_point ForwardOutcome::*when) {
    if (client.outcome) client.outcome->*when = ForwardOutcome::Clock::now();
}

// The pool says why it has no process for the request; the page says it to the user.
std::string pool_error_html(const pool::SessionError& error, const config::Options& options) {
    if (error.kind == pool::SessionErrorKind::spawn_failed)
        return http::app_start_failure_html(error.app_root, error.message, error.app_output,
                                            options.environment,
                                            options.shows_friendly_error_pages());
    return fmt::format("<p>{}</p>", http::html_escape(error.message));
}

}  // namespace

template <typename Stream>
asio::awaitable<bool> forward(ClientContext<Stream>& client, pool::Group& group) {
    // A copy: a configuration reload may give the group new settings during the request.
    const std::shared_ptr<const config::Options> settings = group.shared_options();
    const config::Options& options = *settings;
    auto executor = client.reader.stream().get_executor();
    const http::MessageHead& request = client.reader.head();
    // The body the front end buffered reaches the app with a Content-Length.
    const http::BodyBuffer& body = client.request_body;
    std::string own_head;
    std::string& request_head = client.heads ? client.heads->for_app() : own_head;
    write_app_request_head(request_head, request, client.client_address, body.size(),
                           {.https = client.https, .trusted_peer = client.trusted_peer});
    const bool idempotent = is_idempotent(request.method);
    const std::string sticky_id =
        options.sticky_sessions ? sticky_cookie_value(request, options.sticky_sessions_cookie_name)
                                : std::string();

    // A process that just died may still be listed until its exit is reaped; one that cannot be
    // reached is taken out of rotation and the request goes to another. Bounded: a request that
    // kills every process it reaches gets 502 after this many.
    constexpr int max_unreachable = 3;
    int unreachable = 0;
    auto may_try_another = [&] {
        if (++unreachable < max_unreachable) return true;
        log::error("Gave up on {} {}: {} app processes could not be reached or reset it unread",
                   request.method, request.target, unreachable);
        return false;
    };
    mark(client, &ForwardOutcome::asked);
    for (;;) {
        // Waiting for a process (again, after one that could not be reached): not "in app".
        if (client.process_pid) *client.process_pid = 0;
        ClientWatch client_watch(client.reader.stream());
        pool::SessionResult acquired =
            co_await group.get_session(client_watch.on_queued(), sticky_id);
        client_watch.stop();
        if (acquired.error) {
            if (acquired.error->kind == pool::SessionErrorKind::client_gone) co_return false;
            co_return co_await send_error(client, acquired.error->status,
                                          pool_error_html(*acquired.error, options));
        }
        pool::Session& session = acquired.session;
        if (client.process_pid) *client.process_pid = session.process().pid;
        mark(client, &ForwardOutcome::got_process);
        // A browser without the cookie, or whose process is gone, learns its (new) process.
        client.extra_response_headers.clear();
        if (options.sticky_sessions && sticky_id != session.process().sticky_id) {
            client.extra_response_headers = sticky_set_cookie_line(
                options.sticky_sessions_cookie_name, session.process().sticky_id,
                options.sticky_sessions_cookie_attributes, client.https);
        }

        // A kept-alive connection may have been closed by the app just now. A request that must
        // not run twice takes one only after checking that it is still open.
        // Whether the request may go to another process if this one cannot be reached: nothing
        // of it reached an app yet, or an app refused it unread (app_did_not_take_it).
        bool may_go_elsewhere = true;
        for (int attempt = 0;; ++attempt) {
            std::optional<AppSocket> reused =
                attempt == 0
                    ? session.take_idle_connection(idempotent ? pool::IdleCheck::unless_recent
                                                              : pool::IdleCheck::always)
                    : std::nullopt;
            AppSocket app(executor);
            if (reused) {
                app = std::move(*reused);
            } else {
                asio::error_code error;
                co_await app.async_connect(session.process().endpoint,
                                           asio::redirect_error(asio::use_awaitable, error));
                if (is_out_of_descriptors(error)) {
                    // Our limit, not the process's fault: it stays in rotation.
                    log::error("Cannot connect to app process {}: {}", session.process().pid,
                               out_of_descriptors_hint(error));
                    co_return co_await send_error(
                        client, 503, "<p>The server is out of connections; try again later.</p>");
                }
                if (error) {
                    log::error("Cannot connect to app process {}: {}", session.process().pid,
                               error.message());
                    group.on_process_unreachable(session.process());
                    // Otherwise the first connection's failure (a kept-alive one the app closed)
                    // may mean that this process died with the request in flight: it fails
                    // rather than run on another process too.
                    if (may_go_elsewhere && may_try_another()) break;
                    co_return co_await send_unreachable(client);
                }
            }
            RequestDeadline deadline(executor, options.max_request_time_seconds);
            deadline.arm(app);
            // At once when the socket takes it all (the usual case), without a coroutine.
            size_t written = 0;
            std::optional<Sending> sending = send_request_now(app, request_head, body, written);
            if (!sending)
                sending = co_await send_buffered_request(app, request_head, body, written);
            const bool sent = *sending == Sending::done;
            AppReader app_reader(app, http::MessageParser::Kind::response, max_app_response_head);
            // The response is rarely there yet: its head is waited for by receiving (no
            // epoll_ctl; http/README.md).
            app_reader.receive_next_head();
            RelayState state;
            // A client that leaves meanwhile (a long poll it gave up) ends the wait for the app.
            // Bytes it pipelined already make its leaving undetectable here: no watch then. The
            // watch starts when the relay starts waiting for the app's response.
            std::optional<ClientGoneWatch<Stream>> gone_watch;
            if (sent && !client.reader.has_buffered_bytes()) {
                gone_watch.emplace(client.reader, !request.upgrade, [&app] {
                    asio::error_code ignored;
                    app.cancel(ignored);
                });
                app_reader.on_wait([&gone_watch] { gone_watch->start(); });
            }
            Relay relay = sent ? co_await relay_response(client, app_reader, state)
                               : Relay::app_failed_before_response;
            if (gone_watch) gone_watch->stop();
            deadline.disarm();
            if (client.outcome && state.response_started) {
                client.outcome->status = app_reader.head().status;
                mark(client, &ForwardOutcome::answered);
            } else if (client.outcome && relay == Relay::upgraded) {
                client.outcome->status = 101;
                mark(client, &ForwardOutcome::answered);
            }
            if (gone_watch && gone_watch->gone()) {
                log::debug("The client of {} {} went away; closed its app connection",
                           request.method, request.target);
                co_return false;
            }
            if (relay == Relay::upgraded && !deadline.expired()) {
                if (!request.upgrade) {
                    log::error("App process {} answered 101 to {} {}, which asked for no upgrade",
                               session.process().pid, request.method, request.target);
                    co_return co_await send_error(
                        client, 502, "<p>The application switched protocols unasked.</p>");
                }
                // The tunnel takes the sockets and the session and runs on its own; the
                // client connection ends here without closing its socket.
                start_tunnel(
                    client, app_reader, session,
                    upgrade_response_head(app_reader.head(), client.extra_response_headers));
                co_return false;
            }
            if (deadline.expired()) group.on_request_timed_out(session.process());
            // This request's time ran out, or another one's on the same process did and the
            // process was killed under this one: either way the app did not answer in time.
            if (deadline.expired() ||
                (relay != Relay::done && session.process().killed_for_request_time)) {
                if (state.response_started) co_return false;
                co_return co_await send_error(
                    client, 504,
                    "<p>The application did not answer within --max-request-time.</p>");
            }
            if (relay == Relay::done) {
                // Returning frees the process (the session ends) while the client's writer may
                // still be sending the response.
                if (state.app_reusable) session.return_connection(std::move(app));
                co_return state.keep_alive;
            }
            if (relay == Relay::aborted) co_return false;
            // The process may have died: its other kept-alive connections get checked for a
            // while before they are reused (Process::connection_broke_ns).
            session.process().connection_broke_ns.store(
                std::chrono::steady_clock::now().time_since_epoch().count(),
                std::memory_order_relaxed);
            // A reused connection the app closed meanwhile fails like this, and so does a process
            // that died before reading the request. It goes again on a new connection (to this
            // process; if that is refused, the process is dead and the next is another one)
            // only if that cannot make it run twice: the app got none of it, or its method is
            // idempotent (as nginx's proxy_next_upstream decides). The buffered body would allow
            // resending any request, but an app may act on a POST it then dies answering.
            const bool not_taken = app_did_not_take_it(*sending, app_reader, idempotent);
            if (attempt == 0 && (not_taken || (reused && idempotent))) {
                may_go_elsewhere = not_taken;
                continue;
            }
            // Twice refused unread: the process is dying (its listener can outlive the
            // connections by a moment; the pool hears of its exit) or rejects this request.
            // Another process takes it; this one is not blamed (it may be a request that kills
            // or upsets every process).
            if (not_taken && may_go_elsewhere) {
                log::error("App process {} reset the connection without reading {} {}",
                           session.process().pid, request.method, request.target);
                if (may_try_another()) break;
                co_return co_await send_unreachable(client);
            }
            log::error("App process {} closed the connection without answering {} {}{}",
                       session.process().pid, request.method, request.target,
                       reused ? " (not sent again: the app may have received it, and the method "
                                "is not idempotent)"
                              : "");
            co_return co_await send_error(
                client, 502,
                "<p>The application process closed the connection without a response.</p>");
        }
    }
}

template asio::awaitable<bool> forward(ClientContext<asio::ip::tcp::socket>&, pool::Group&);
template asio::awaitable<bool> forward(ClientContext<tls::TlsSocket>&, pool::Group&);
template asio::awaitable<bool> forward(ClientContext<http::Http2StreamSocket>&, pool::Group&);

}  // namespace passenger::proxy

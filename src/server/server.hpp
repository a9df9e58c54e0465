// The core's HTTP front end: accepts client connections on the listening socket the watchdog
// handed over, serves each (static file or app), and shuts down gracefully.
#pragma once

#include "admin/instance_admin.hpp"
#include "admin/metrics_listener.hpp"
#include "admin/request_registry.hpp"
#include "admin/traffic_stats.hpp"
#include "common/event_loops.hpp"
#include "common/run_on.hpp"
#include "config/options.hpp"
#include "http/http2_stream_socket.hpp"
#include "http/trusted_proxies.hpp"
#include "pool/pool.hpp"
#include "server/accepted_socket.hpp"
#include "server/access_log.hpp"
#include "server/front_end_settings.hpp"
#include "server/host_apps.hpp"
#include "server/integration_apps.hpp"
#include "server/turn_queue.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/spawner.hpp"
#include "static/static_files.hpp"
#include "tls/credentials.hpp"

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <atomic>
#include <list>
#include <memory>
#include <mutex>
#include <type_traits>
#include <vector>

namespace passenger::server {

// Where a client connection came from, when its socket cannot say: an HTTP/2 stream is served
// over an in-memory stream (server/http2_session.hpp), so its address and scheme travel with it;
// an HTTPS connection's scheme too (server/tls_connection.hpp).
struct ConnectionOrigin {
    std::string address;  // empty: the socket's peer
    bool https = false;
    bool http2 = false;  // an HTTP/2 stream's (server/http2_session.hpp)

    admin::ClientProtocol protocol() const {
        return http2   ? admin::ClientProtocol::h2
               : https ? admin::ClientProtocol::https1
                       : admin::ClientProtocol::http1;
    }
};

class Server {
  public:
    // With an `app_options_parser`, the server serves the nginx module (integration mode): the
    // apps come from the settings each connection starts with, not from `options`. The main
    // loop of `loops` accepts and runs the pool, the admin socket and everything shared; each
    // loop serves the connections handed to it (README.md "Threads").
    Server(EventLoops& loops, const config::Options& options, int listen_fd,
           AppOptionsParser app_options_parser = {});

    // --ssl, before start(): HTTPS with `context` on the listening socket `tls_listen_fd`, or
    // (-1) on the one given to the constructor.
    void serve_tls(tls::ServerContext context, int tls_listen_fd);
    // What new TLS handshakes use; a reload replaces it, connections keep the one they began with.
    tls::ServerContext tls_context() const {
        std::lock_guard lock(tls_context_mutex_);
        return tls_context_;
    }
    void set_tls_context(tls::ServerContext context) {
        std::lock_guard lock(tls_context_mutex_);
        tls_context_ = std::move(context);
    }
    // What GET /tls on the admin socket answers (the credentials watch keeps it).
    admin::TlsStatus& tls_status() { return admin_.tls_status(); }

    // Spawns the minimum number of app processes and starts accepting.
    void start();
    // Stops accepting, lets requests in flight finish (bounded), stops the app processes, and
    // then stops the event loop.
    asio::awaitable<void> shut_down();

    // SIGTERM with --drain-timeout: the health check fails at once, requests are served (each
    // response closing its connection) for that long, then shut_down().
    asio::awaitable<void> drain_and_shut_down();

    bool shutting_down() const { return shutting_down_.load(std::memory_order_relaxed); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    const config::Options& options() const { return options_; }
    // The main loop's only (README.md "Threads"); from a connection, group_for() or on_main_loop().
    pool::Pool& pool() { return pool_; }
    // The request's group, from any loop: the main loop finds (nginx mode: creates) it; hand it
    // back with done_with_group() once the request is answered.
    asio::awaitable<pool::Group*> group_for(std::shared_ptr<const config::Options> app_options);
    // The same without a coroutine when no trip to the main loop is needed (on the main loop,
    // Standalone's apps, a group this loop knows); nullptr otherwise: then group_for().
    pool::Group* group_here(const std::shared_ptr<const config::Options>& app_options);
    void done_with_group(pool::Group& group);
    // Runs `function` on the main loop (at once when the caller is on it) and gives its result.
    // A named function object, never a temporary (common/run_on.hpp says why).
    template <typename Function>
    asio::awaitable<std::invoke_result_t<Function&>> on_main_loop(Function& function);
    // Client connections open on each loop right now (passenger-status, metrics).
    std::vector<size_t> connections_per_loop() const;
    // Standalone mode's one app: the command line's Options, as its group's settings.
    const std::shared_ptr<const config::Options>& app_options() const { return app_options_; }
    // Standalone's apps: the main one and those --app names, each with its public/.
    const HostApps& host_apps() const { return host_apps_; }
    const FrontEndSettings& front_end() const { return front_end_; }
    // --trusted-proxy: peers whose X-Forwarded-* headers are believed.
    const http::TrustedProxies& trusted_proxies() const { return trusted_proxies_; }
    // Integration mode's apps; null in Standalone mode.
    IntegrationApps* integration_apps() { return integration_apps_.get(); }
    // nginx completed a configuration cycle: apps no longer configured stop, running ones whose
    // settings changed restart, and the http{} settings (pool size, idle time, log level) apply.
    void apply_module_configuration(const config::ModuleConfiguration& configuration);
    // Requests being answered, for passenger-status --show=requests (admin/).
    admin::RequestRegistry& requests() { return requests_; }
    // A request was answered (or its client left): the access log and the metrics hear of it.
    void on_request_done(const AccessLogEntry& entry, std::string_view app_root);
    // SIGUSR1 (logrotate): the log file and the access log are opened again.
    void reopen_logs();

    // Connections register themselves (with the loop serving them) so shutdown can close idle
    // ones and wait for busy ones.
    struct ConnectionEntry {
        asio::ip::tcp::socket* socket;  // null while the connection is parked, and for h2 streams
        bool busy = false;
        ConnectionOrigin origin;                    // kept while the connection is parked
        http::Http2StreamSocket* stream = nullptr;  // an HTTP/2 stream's, which has no socket
    };
    using ConnectionHandle = std::list<ConnectionEntry>::iterator;
    ConnectionHandle register_connection(asio::ip::tcp::socket& socket,
                                         ConnectionOrigin origin = {});
    ConnectionHandle register_connection(http::Http2StreamSocket& stream, ConnectionOrigin origin);
    // An accepted connection ended before it registered (a TLS handshake that failed).
    void forget_accepted();
    // A connection that was not accepted is about to register (an HTTP/2 stream's).
    void expect_registration();
    void unregister_connection(ConnectionHandle handle);

  private:
    struct Listener {
        Listener(asio::io_context& io, int fd, bool tls);
        asio::ip::tcp::acceptor acceptor;
        asio::ip::tcp protocol;  // of the accepted sockets
        bool tls;
        asio::steady_timer resumes;  // the accept loop sleeps on it at the limit
    };
    // What one event loop owns of the front end; `entries` only ever on that loop's thread.
    struct LoopConnections {
        std::list<ConnectionEntry> entries;
        std::atomic<size_t> open{0};  // handed to this loop and not closed yet
        // TLS connections handed to this loop start one per turn (turn_queue.hpp); those
        // waiting are descriptors nobody reads yet, as in the listen backlog.
        std::unique_ptr<TurnQueue<AcceptedConnection>> tls_starts;
    };
    asio::awaitable<void> accept_loop(Listener& listener);
    struct Accepted {
        bool backlog_empty = false;  // else the limit stopped it
        asio::error_code error;
    };
    Accepted accept_waiting(Listener& listener);
    void hand_off(AcceptedConnection accepted, const Listener& listener);
    void serve_accepted(AcceptedConnection accepted, bool tls);
    void start_connection(AcceptedConnection accepted, bool tls);
    LoopConnections& this_loop() { return *loop_connections_[EventLoops::current()]; }
    // Runs `function` with each loop's connections, on that loop.
    void on_each_loop(const std::function<void(LoopConnections&)>& function);
    void on_connection_closed();
    void start_metrics();
    // At --max-connections, waits until a connection closes (or shutdown begins).
    asio::awaitable<void> wait_below_connection_limit(Listener& listener);

    EventLoops& loops_;
    asio::io_context& io_;  // the main loop
    const config::Options& options_;
    std::vector<std::unique_ptr<Listener>> listeners_;
    tls::ServerContext tls_context_;
    mutable std::mutex tls_context_mutex_;
    spawn::ChildReaper reaper_;
    spawn::Spawner spawner_;
    std::shared_ptr<const config::Options> app_options_;
    pool::Pool pool_;
    HostApps host_apps_;
    FrontEndSettings front_end_;
    http::TrustedProxies trusted_proxies_;
    admin::RequestRegistry requests_;
    admin::TrafficStats traffic_;
    std::mutex traffic_mutex_;  // recorded by every loop, read by the metrics listener
    AccessLog access_log_;
    admin::MetricsListener metrics_;  // --metrics-address
    admin::InstanceAdmin admin_;      // the registry entry and the admin socket
    std::unique_ptr<IntegrationApps> integration_apps_;
    // Standalone's groups, found at start(): read-only afterwards, so any loop may look.
    std::vector<std::pair<const config::Options*, pool::Group*>> standalone_groups_;
    std::vector<std::unique_ptr<LoopConnections>> loop_connections_;
    // nginx mode: each loop's groups found through the main loop while the pool's
    // settings_changes() stayed the same, each pinned once by this list, so that the loop's
    // next requests for them find and pin them without a round trip to the main loop. Each
    // loop's only (indexed by EventLoops::current()); the main loop's stays empty.
    struct LoopGroups {
        uint64_t settings_changes = 0;
        std::vector<std::pair<std::shared_ptr<const config::Options>, pool::Group*>> groups;
    };
    std::vector<LoopGroups> loop_groups_;
    // Unpins and forgets this loop's groups when the pool's settings changed since they were
    // found; returns the loop's list.
    LoopGroups& current_loop_groups();
    // What --max-connections counts: from the accept to the close (parked ones included).
    std::atomic<size_t> open_connections_{0};
    std::atomic<bool> accept_paused_{false};  // the accept loop waits for a connection to close
    bool connection_limit_logged_ = false;
    std::atomic<bool> shutting_down_{false};
    std::atomic<bool> draining_{false};
};

template <typename Function>
asio::awaitable<std::invoke_result_t<Function&>> Server::on_main_loop(Function& function) {
    if (loops_.on_main_loop()) co_return function();
    co_return co_await run_on(io_, function);
}

}  // namespace passenger::server

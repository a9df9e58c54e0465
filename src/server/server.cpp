#include "server/server.hpp"

#include "admin/metrics.hpp"
#include "common/file_limit.hpp"
#include "common/log.hpp"
#include "server/connection.hpp"
#include "server/parked_connection.hpp"
#include "server/pre_start.hpp"
#include "server/tls_connection.hpp"

#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>

namespace passenger::server {
namespace {

using namespace std::chrono_literals;

constexpr auto accept_retry_interval = 100ms;

asio::ip::tcp protocol_of(int fd) {
    sockaddr_storage address{};
    socklen_t length = sizeof address;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return address.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
}

}  // namespace

// In integration mode the listening socket is a Unix socket; the tcp acceptor and sockets carry
// it all the same (accept, read, write and shutdown are the same calls), so the front end needs
// no second socket type. Only the peer address differs: the module sends the client's.
Server::Server(asio::io_context& io, const config::Options& options, int listen_fd,
               AppOptionsParser app_options_parser)
    : io_(io),
      options_(options),
      reaper_(io),
      spawner_(io, reaper_),
      app_options_(std::make_shared<const config::Options>(options)),
      pool_(io, options.max_pool_size, spawner_, reaper_),
      host_apps_(app_options_),
      front_end_(options.front_end),
      trusted_proxies_(options.operations.trusted_proxies),
      access_log_(io, options.operations.access_log, options.operations.access_log_format),
      metrics_(io,
               [this] {
                   return admin::prometheus_metrics(admin_.pool()) +
                          admin::prometheus_traffic(traffic_);
               }),
      admin_(io, options, pool_, requests_),
      integration_apps_(app_options_parser ? std::make_unique<IntegrationApps>(
                                                 options, std::move(app_options_parser))
                                           : nullptr) {
    listeners_.push_back(std::make_unique<Listener>(io, listen_fd, false));
}

Server::Listener::Listener(asio::io_context& io, int fd, bool tls)
    : acceptor(io, protocol_of(fd), fd), tls(tls), resumes(io) {}

void Server::serve_tls(tls::ServerContext context, int tls_listen_fd) {
    tls_context_ = std::move(context);
    if (tls_listen_fd < 0)
        listeners_.front()->tls = true;
    else
        listeners_.push_back(std::make_unique<Listener>(io_, tls_listen_fd, true));
}

void Server::start() {
    if (!integration_apps_) {  // integration: on first request
        for (const HostApp* app : host_apps_.all()) pool_.group_for(app->options);
    }
    admin_.start();  // a failure is logged; the server serves anyway
    start_metrics();
    for (auto& listener : listeners_) asio::co_spawn(io_, accept_loop(*listener), asio::detached);
}

void Server::apply_module_configuration(const config::ModuleConfiguration& configuration) {
    if (!integration_apps_) return;
    std::vector<IntegrationApps::App> apps = integration_apps_->configure(configuration);
    const config::Options& server_wide = integration_apps_->server_wide();
    log::set_level(static_cast<log::Level>(server_wide.log_level));
    pool_.set_max_pool_size(server_wide.max_pool_size);
    std::vector<std::string> keys;
    for (const IntegrationApps::App& app : apps) {
        std::string key = pool::group_key(*app.options);
        // Two locations of one app folder with different settings share a group: the first one
        // counts here (requests pick theirs), so a reload restarts such an app at most once.
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
        keys.push_back(std::move(key));
        // A running app gets its new settings now (a restart if they changed); one not running
        // starts on its first request, as Passenger's do.
        if (pool_.find_group(keys.back()) != nullptr) pool_.group_for(app.options);
    }
    pool_.retain_only(keys);
    log::notice("{} configuration: {} app(s), --max-pool-size {}, --pool-idle-time {}",
                options_.integration_mode, apps.size(), server_wide.max_pool_size,
                server_wide.pool_idle_time_seconds);
    // After every cycle (Passenger does the same): an app already running just serves one more
    // request; one new or restarted starts now.
    for (const std::string& url : configuration.pre_start) pre_start(io_, url);
}

void Server::start_metrics() {
    const std::string& address = options_.operations.metrics_address;
    if (address.empty()) return;
    // Checked at parse time (cli/operations_flags): "HOST:PORT" or "[V6]:PORT".
    const size_t colon = address.rfind(':');
    std::string host = address.substr(0, colon);
    if (host.starts_with('[')) host = host.substr(1, host.size() - 2);
    if (std::string error = metrics_.listen(host, std::stoi(address.substr(colon + 1)));
        !error.empty()) {
        log::error("{}", error);
        return;
    }
    log::notice("Serving metrics at http://{}/metrics", address);
}

void Server::on_request_done(const AccessLogEntry& entry, std::string_view app_root) {
    traffic_.record(app_root, entry.status, entry.total_seconds, entry.bytes_in, entry.bytes_out);
    access_log_.write(entry);
}

void Server::reopen_logs() {
    if (std::string error = log::open(options_.log_file, log::echoes()); !error.empty())
        log::error("Cannot reopen the log file: {}", error);
    if (std::string error = access_log_.reopen(); !error.empty())
        log::error("Cannot reopen the access log: {}", error);
    log::notice("Reopened the log files");
}

asio::awaitable<void> Server::accept_loop(Listener& listener) {
    asio::steady_timer pause(io_);
    int failures = 0;  // in a row
    while (!shutting_down_) {
        co_await wait_below_connection_limit(listener);
        if (shutting_down_) break;
        asio::error_code error;
        asio::ip::tcp::socket socket = co_await listener.acceptor.async_accept(
            asio::redirect_error(asio::use_awaitable, error));
        if (error == asio::error::operation_aborted || shutting_down_) break;
        if (error) {
            // Out of descriptors or memory: the connection waits in the listen backlog while we
            // pause instead of spinning; one line when it starts, one when it is over.
            if (failures++ == 0) {
                log::error(
                    "Cannot accept connections: {}; retrying every {} ms",
                    is_out_of_descriptors(error) ? out_of_descriptors_hint(error) : error.message(),
                    accept_retry_interval.count());
            }
            pause.expires_after(accept_retry_interval);
            co_await pause.async_wait(asio::redirect_error(asio::use_awaitable, error));
            continue;
        }
        if (failures > 0) {
            log::notice("Accepting connections again (after {} failed attempts)", failures);
            failures = 0;
        }
        ++accepted_unregistered_;
        if (listener.tls)
            asio::co_spawn(io_, serve_tls_connection(std::move(socket), *this), asio::detached);
        else
            asio::co_spawn(io_, serve_connection(std::move(socket), *this), asio::detached);
    }
}

// Not accepting leaves new connections in the kernel's listen backlog (and, past it, the
// clients' SYNs unanswered until they retry), instead of running out of descriptors or memory
// here. The admin socket has its own acceptor and keeps answering.
asio::awaitable<void> Server::wait_below_connection_limit(Listener& listener) {
    const auto limit = static_cast<size_t>(options_.max_connections);
    while (accepted_unregistered_ + connections_.size() >= limit && !shutting_down_) {
        if (!connection_limit_logged_) {
            connection_limit_logged_ = true;
            log::warn(
                "Reached --max-connections ({}): new connections wait until one closes "
                "(logged once)",
                limit);
        }
        listener.resumes.expires_at(asio::steady_timer::time_point::max());
        asio::error_code ignored;
        co_await listener.resumes.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

Server::ConnectionHandle Server::register_connection(asio::ip::tcp::socket& socket,
                                                     ConnectionOrigin origin) {
    // A parked connection that resumes keeps its registration; only a new one registers.
    if (accepted_unregistered_ > 0) --accepted_unregistered_;
    if (!origin.http2) requests_.open_connection(origin.protocol());  // h2: the TLS connection's
    connections_.push_back({&socket, false, std::move(origin)});
    return std::prev(connections_.end());
}

void Server::forget_accepted() {
    if (accepted_unregistered_ > 0) --accepted_unregistered_;
    for (auto& listener : listeners_) listener->resumes.cancel();  // below the limit again
}

void Server::unregister_connection(ConnectionHandle handle) {
    if (!handle->origin.http2) requests_.close_connection(handle->origin.protocol());
    connections_.erase(handle);
    for (auto& listener : listeners_) listener->resumes.cancel();  // below --max-connections again
}

void Server::on_tunnel_opened(asio::ip::tcp::socket& socket) {
    for (auto& entry : connections_) {
        if (entry.socket == &socket) entry.busy = false;
    }
}

asio::awaitable<void> Server::drain_and_shut_down() {
    if (draining_ || shutting_down_) co_return;
    draining_ = true;
    const int seconds = options_.operations.drain_timeout_seconds;
    log::notice(
        "Draining: the health check fails from now on; serving for {} s more, then "
        "shutting down",
        seconds);
    asio::steady_timer timer(io_);
    timer.expires_after(std::chrono::seconds(seconds));
    asio::error_code ignored;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_await shut_down();
}

asio::awaitable<void> Server::shut_down() {
    if (shutting_down_) co_return;
    shutting_down_ = true;
    log::notice("Shutting down: no new connections; waiting for requests in flight");
    asio::error_code ignored;
    for (auto& listener : listeners_) {
        listener->acceptor.close(ignored);
        listener->resumes.cancel();
    }

    auto close_idle = [this, &ignored] {
        for (auto& entry : connections_) {
            if (!entry.busy && entry.socket) entry.socket->cancel(ignored);
        }
    };
    close_parked_connections(io_);
    asio::steady_timer timer(io_);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.graceful_shutdown_seconds);
    while (!connections_.empty() && std::chrono::steady_clock::now() < deadline) {
        close_idle();  // a busy connection becomes idle once its response is written
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (!connections_.empty()) {
        log::warn("{} request(s) still in flight after {} s; closing them", connections_.size(),
                  options_.graceful_shutdown_seconds);
        for (auto& entry : connections_) {
            if (entry.socket) entry.socket->close(ignored);
        }
    }
    co_await pool_.shutdown();
    metrics_.stop();
    admin_.stop();  // removes the registry entry
    access_log_.flush();
    log::notice("Shutdown complete");
    io_.stop();
}

}  // namespace passenger::server

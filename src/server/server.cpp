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
#include <asio/post.hpp>
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
Server::Server(EventLoops& loops, const config::Options& options, int listen_fd,
               AppOptionsParser app_options_parser)
    : loops_(loops),
      io_(loops.main()),
      options_(options),
      reaper_(io_),
      spawner_(io_, reaper_),
      app_options_(std::make_shared<const config::Options>(options)),
      pool_(io_, options.max_pool_size, spawner_, reaper_, &loops),
      host_apps_(app_options_, loops.size()),
      front_end_(options.front_end),
      trusted_proxies_(options.operations.trusted_proxies),
      access_log_(io_, options.operations.access_log, options.operations.access_log_format),
      metrics_(io_,
               [this] {
                   std::lock_guard lock(traffic_mutex_);
                   return admin::prometheus_metrics(admin_.pool()) +
                          admin::prometheus_traffic(traffic_);
               }),
      admin_(io_, options, pool_, requests_),
      integration_apps_(app_options_parser ? std::make_unique<IntegrationApps>(
                                                 options, std::move(app_options_parser))
                                           : nullptr) {
    listeners_.push_back(std::make_unique<Listener>(io_, listen_fd, false));
    for (size_t i = 0; i < loops.size(); ++i) {
        auto loop = std::make_unique<LoopConnections>();
        loop->tls_starts = std::make_unique<TurnQueue<std::pair<int, asio::ip::tcp>>>(
            loops.at(i), [this](std::pair<int, asio::ip::tcp> accepted) {
                start_connection(accepted.first, accepted.second, true);
            });
        loop_connections_.push_back(std::move(loop));
    }
    loop_groups_.resize(loops.size());
    admin_.set_connections_per_thread([this] { return connections_per_loop(); });
}

Server::Listener::Listener(asio::io_context& io, int fd, bool tls)
    : acceptor(io, protocol_of(fd), fd), protocol(protocol_of(fd)), tls(tls), resumes(io) {}

void Server::serve_tls(tls::ServerContext context, int tls_listen_fd) {
    tls_context_ = std::move(context);
    if (tls_listen_fd < 0)
        listeners_.front()->tls = true;
    else
        listeners_.push_back(std::make_unique<Listener>(io_, tls_listen_fd, true));
}

void Server::start() {
    if (!integration_apps_) {  // integration: on first request
        for (const HostApp* app : host_apps_.all())
            standalone_groups_.emplace_back(app->options.get(), &pool_.group_for(app->options));
    }
    admin_.start();  // a failure is logged; the server serves anyway
    start_metrics();
    for (auto& listener : listeners_) asio::co_spawn(io_, accept_loop(*listener), asio::detached);
}

pool::Group* Server::group_here(const std::shared_ptr<const config::Options>& app_options) {
    if (loops_.on_main_loop()) return &pool_.group_for(app_options);
    if (!integration_apps_) {
        for (const auto& [options, group] : standalone_groups_) {
            if (options == app_options.get()) return group;
        }
    }
    for (const auto& [options, group] : current_loop_groups().groups) {
        if (options == app_options) {
            group->pin();  // the list's pin keeps it meanwhile
            return group;
        }
    }
    return nullptr;
}

asio::awaitable<pool::Group*> Server::group_for(
    std::shared_ptr<const config::Options> app_options) {
    if (pool::Group* group = group_here(app_options)) co_return group;
    LoopGroups& known = current_loop_groups();
    const uint64_t changes = known.settings_changes;
    auto find_and_pin = [this, &app_options, changes] {
        pool::Group& group = pool_.group_for(app_options);
        group.pin();  // a reload may remove it before the request reaches its queue
        // Kept by the loop only when the lookup changed nothing: settings that replace the
        // group's each time (two locations of one app) still go through the main loop.
        const bool keep = pool_.settings_changes() == changes;
        if (keep) group.pin();
        return std::pair{&group, keep};
    };
    auto [group, keep] = co_await on_main_loop(find_and_pin);
    if (keep) {
        LoopGroups& now = current_loop_groups();
        if (now.settings_changes == changes)
            now.groups.emplace_back(std::move(app_options), group);
        else
            group->unpin();
    }
    co_return group;
}

Server::LoopGroups& Server::current_loop_groups() {
    LoopGroups& known = loop_groups_[EventLoops::current()];
    const uint64_t changes = pool_.settings_changes();
    if (known.settings_changes != changes) {
        for (const auto& [options, group] : known.groups) group->unpin();
        known.groups.clear();
        known.settings_changes = changes;
    }
    return known;
}

// Pins are atomic: no trip to the main loop (the pool's loop destroys a removed group once
// its pins and sessions are gone).
void Server::done_with_group(pool::Group& group) {
    if (loops_.on_main_loop() || !integration_apps_) return;
    group.unpin();
}

std::vector<size_t> Server::connections_per_loop() const {
    std::vector<size_t> counts;
    for (const auto& loop : loop_connections_) counts.push_back(loop->open.load());
    return counts;
}

void Server::on_each_loop(const std::function<void(LoopConnections&)>& function) {
    for (size_t i = 0; i < loop_connections_.size(); ++i) {
        LoopConnections& loop = *loop_connections_[i];
        if (i == EventLoops::current())
            function(loop);
        else
            asio::post(loops_.at(i), [function, &loop] { function(loop); });
    }
}

void Server::apply_module_configuration(const config::ModuleConfiguration& configuration) {
    if (!integration_apps_) return;
    if (!loops_.on_main_loop()) {  // the pool and the apps are the main loop's
        asio::post(io_, [this, configuration] { apply_module_configuration(configuration); });
        return;
    }
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
    // Each loop lets go of the groups it kept (a removed one is destroyed after that).
    on_each_loop([this](LoopConnections&) { current_loop_groups(); });
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
    {
        std::lock_guard lock(traffic_mutex_);
        traffic_.record(app_root, entry.status, entry.total_seconds, entry.bytes_in,
                        entry.bytes_out);
    }
    access_log_.write(entry);
}

void Server::reopen_logs() {
    if (std::string error = log::open(options_.log_file, log::echoes()); !error.empty())
        log::error("Cannot reopen the log file: {}", error);
    if (std::string error = access_log_.reopen(); !error.empty())
        log::error("Cannot reopen the access log: {}", error);
    log::notice("Reopened the log files");
}

// One acceptor, on the main loop, for every loop: each connection goes to the loop serving the
// fewest (README.md "Threads" says why not one acceptor per loop).
asio::awaitable<void> Server::accept_loop(Listener& listener) {
    asio::steady_timer pause(io_);
    asio::error_code error;
    listener.acceptor.non_blocking(true, error);
    int failures = 0;  // in a row
    while (!shutting_down_) {
        co_await wait_below_connection_limit(listener);
        if (shutting_down_) break;
        Accepted accepted = accept_waiting(listener);
        if (accepted.error) {
            // Out of descriptors or memory: the connection waits in the listen backlog while we
            // pause instead of spinning; one line when it starts, one when it is over.
            if (failures++ == 0) {
                log::error("Cannot accept connections: {}; retrying every {} ms",
                           is_out_of_descriptors(accepted.error)
                               ? out_of_descriptors_hint(accepted.error)
                               : accepted.error.message(),
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
        if (!accepted.backlog_empty) continue;  // at --max-connections
        co_await listener.acceptor.async_wait(asio::ip::tcp::acceptor::wait_read,
                                              asio::redirect_error(asio::use_awaitable, error));
        if (error == asio::error::operation_aborted) break;
    }
}

// Accepts what waits in the backlog, up to --max-connections. Waiting for readability only
// after accept() said EAGAIN: the listening socket's readiness is edge-triggered.
Server::Accepted Server::accept_waiting(Listener& listener) {
    const auto limit = static_cast<size_t>(options_.max_connections);
    while (open_connections_.load() < limit && !shutting_down_) {
        int fd = ::accept4(listener.acceptor.native_handle(), nullptr, nullptr,
                           SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            ++open_connections_;
            hand_off(fd, listener);
            continue;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK) return {.backlog_empty = true, .error = {}};
        // The client gave up before we took its connection: the next one.
        if (errno == ECONNABORTED || errno == EINTR || errno == EPROTO) continue;
        return {.backlog_empty = false, .error = asio::error_code(errno, asio::system_category())};
    }
    return {};
}

// To the loop with the fewest open connections (loop 0 on a tie, so one busy connection does not
// cost a thread switch).
void Server::hand_off(int fd, const Listener& listener) {
    size_t target = 0;
    for (size_t i = 1; i < loop_connections_.size(); ++i) {
        if (loop_connections_[i]->open.load() < loop_connections_[target]->open.load()) target = i;
    }
    loop_connections_[target]->open.fetch_add(1);
    if (target == EventLoops::current()) {
        serve_accepted(fd, listener.protocol, listener.tls);
        return;
    }
    asio::post(loops_.at(target), [this, fd, protocol = listener.protocol, tls = listener.tls] {
        serve_accepted(fd, protocol, tls);
    });
}

// On the connection's loop: a plain connection starts at once; a TLS one in its turn, one per
// turn of the loop, as an nginx worker accepts one connection per turn (turn_queue.hpp says why).
void Server::serve_accepted(int fd, asio::ip::tcp protocol, bool tls) {
    if (tls)
        this_loop().tls_starts->push({fd, protocol});
    else
        start_connection(fd, protocol, tls);
}

// The socket is made on its loop's thread: it registers with that loop's reactor and is never
// touched by another.
void Server::start_connection(int fd, asio::ip::tcp protocol, bool tls) {
    asio::io_context& loop = loops_.at(EventLoops::current());
    asio::ip::tcp::socket socket(loop);
    asio::error_code error;
    socket.assign(protocol, fd, error);
    if (error) {
        ::close(fd);
        forget_accepted();
        return;
    }
    if (tls)
        asio::co_spawn(loop, serve_tls_connection(std::move(socket), *this), asio::detached);
    else
        asio::co_spawn(loop, serve_connection(std::move(socket), *this), asio::detached);
}

// Not accepting leaves new connections in the kernel's listen backlog (and, past it, the
// clients' SYNs unanswered until they retry), instead of running out of descriptors or memory
// here. The admin socket has its own acceptor and keeps answering.
asio::awaitable<void> Server::wait_below_connection_limit(Listener& listener) {
    const auto limit = static_cast<size_t>(options_.max_connections);
    // Paused before the count is read: a loop closing a connection meanwhile sees it and wakes
    // this loop (on_connection_closed).
    for (accept_paused_ = true; open_connections_.load() >= limit && !shutting_down_;
         accept_paused_ = true) {
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
    accept_paused_ = false;
}

Server::ConnectionHandle Server::register_connection(asio::ip::tcp::socket& socket,
                                                     ConnectionOrigin origin) {
    if (!origin.http2) requests_.open_connection(origin.protocol());  // h2: the TLS connection's
    std::list<ConnectionEntry>& entries = this_loop().entries;
    entries.push_back({&socket, false, std::move(origin), nullptr});
    return std::prev(entries.end());
}

Server::ConnectionHandle Server::register_connection(http::Http2StreamSocket& stream,
                                                     ConnectionOrigin origin) {
    std::list<ConnectionEntry>& entries = this_loop().entries;
    entries.push_back({nullptr, false, std::move(origin), &stream});
    return std::prev(entries.end());
}

void Server::forget_accepted() {
    --this_loop().open;
    on_connection_closed();
}

void Server::expect_registration() {
    ++open_connections_;
    ++this_loop().open;
}

void Server::unregister_connection(ConnectionHandle handle) {
    if (!handle->origin.http2) requests_.close_connection(handle->origin.protocol());
    LoopConnections& loop = this_loop();
    loop.entries.erase(handle);
    --loop.open;
    on_connection_closed();
}

// Below --max-connections again: the accept loop may go on.
void Server::on_connection_closed() {
    --open_connections_;
    if (loops_.on_main_loop()) {
        for (auto& listener : listeners_) listener->resumes.cancel();
    } else if (accept_paused_.load()) {
        asio::post(io_, [this] {
            for (auto& listener : listeners_) listener->resumes.cancel();
        });
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

    // Each loop closes its own connections (a parked one has no socket: its lot closes it).
    auto close_idle = [this] {
        on_each_loop([](LoopConnections& loop) {
            asio::error_code ignored;
            for (auto& entry : loop.entries) {
                if (entry.busy) continue;
                if (entry.socket) entry.socket->cancel(ignored);
                if (entry.stream) entry.stream->cancel(ignored);
            }
        });
    };
    // TLS connections that did not start yet are closed unread.
    on_each_loop([this](LoopConnections& loop) {
        for (const auto& [fd, protocol] : loop.tls_starts->take_all()) {
            ::close(fd);
            forget_accepted();
        }
    });
    // Each loop's parking lot is its own (an io_context service), closed on its thread.
    on_each_loop(
        [this](LoopConnections&) { close_parked_connections(loops_.at(EventLoops::current())); });
    asio::steady_timer timer(io_);
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options_.graceful_shutdown_seconds);
    while (open_connections_.load() > 0 && std::chrono::steady_clock::now() < deadline) {
        close_idle();  // a busy connection becomes idle once its response is written
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    if (const size_t left = open_connections_.load(); left > 0) {
        log::warn("{} request(s) still in flight after {} s; closing them", left,
                  options_.graceful_shutdown_seconds);
        on_each_loop([](LoopConnections& loop) {
            asio::error_code ignored;
            for (auto& entry : loop.entries) {
                if (entry.socket) entry.socket->close(ignored);
                if (entry.stream) entry.stream->close(ignored);
            }
        });
    }
    co_await pool_.shutdown();
    metrics_.stop();
    admin_.stop();  // removes the registry entry
    access_log_.flush();
    log::notice("Shutdown complete");
    loops_.stop();
}

}  // namespace passenger::server

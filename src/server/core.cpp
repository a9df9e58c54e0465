#include "server/core.hpp"

#include "common/core_environment.hpp"
#include "common/log.hpp"
#include "server/server.hpp"

#include <sys/resource.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <string>

namespace passenger::server {
namespace {

// Tells the watchdog (through the pipe it passed in PASSENGER_READY_FD) that the core serves.
void report_ready() {
    const char* ready_fd = std::getenv(kReadyFdVariable);
    if (ready_fd == nullptr) return;
    int fd = std::atoi(ready_fd);
    (void)!::write(fd, "1", 1);
    ::close(fd);
    ::unsetenv(kReadyFdVariable);
}

// Each client connection holds a descriptor and, while the app answers it, another for the app
// connection; the core needs some of its own (listeners, admin socket, app processes' pipes).
// Raises the soft limit as far as the hard one allows (as nginx's worker_rlimit_nofile does),
// and says so when that is not enough for --max-connections.
void raise_descriptor_limit(int max_connections) {
    constexpr rlim_t per_connection = 2;
    constexpr rlim_t own_descriptors = 128;
    const rlim_t needed = static_cast<rlim_t>(max_connections) * per_connection + own_descriptors;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0 || limit.rlim_cur >= needed) return;
    rlim_t wanted = limit.rlim_max == RLIM_INFINITY ? needed : std::min(needed, limit.rlim_max);
    if (wanted > limit.rlim_cur) {
        rlimit raised{wanted, limit.rlim_max};
        if (::setrlimit(RLIMIT_NOFILE, &raised) == 0) limit.rlim_cur = wanted;
    }
    if (limit.rlim_cur < needed) {
        log::warn(
            "--max-connections {} may need {} file descriptors, but the limit is {} (ulimit "
            "-n); past it, new connections wait until descriptors free up",
            max_connections, needed, limit.rlim_cur);
    }
}

}  // namespace

int run_core(const config::Options& options, int listen_fd) {
    // Writes to a closed client socket (sendfile included) must fail with EPIPE, not kill us.
    std::signal(SIGPIPE, SIG_IGN);
    raise_descriptor_limit(options.max_connections);
    // Everything in the core runs on this one thread, so the scheduler and the reactor need no
    // locks (with a plain hint of 1 they still take ~20 mutex pairs per proxied request).
    asio::io_context io(ASIO_CONCURRENCY_HINT_UNSAFE);
    Server server(io, options, listen_fd);

    asio::signal_set stop_signals(io, SIGTERM, SIGINT);
    stop_signals.async_wait([&](const asio::error_code& error, int signal) {
        if (error) return;
        log::notice("Received signal {}; shutting down", signal);
        asio::co_spawn(io, server.shut_down(), asio::detached);
    });

    server.start();
    report_ready();
    io.run();
    return 0;
}

}  // namespace passenger::server

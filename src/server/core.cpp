#include "server/core.hpp"

#include "common/log.hpp"
#include "server/server.hpp"

#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <string>

namespace passenger::server {
namespace {

// Tells the watchdog (through the pipe it passed in PASSENGER_READY_FD) that the core serves.
void report_ready() {
    const char* ready_fd = std::getenv("PASSENGER_READY_FD");
    if (ready_fd == nullptr) return;
    int fd = std::atoi(ready_fd);
    (void)!::write(fd, "1", 1);
    ::close(fd);
    ::unsetenv("PASSENGER_READY_FD");
}

}  // namespace

int run_core(const config::Options& options, int listen_fd, AppOptionsParser app_options_parser) {
    // Writes to a closed client socket (sendfile included) must fail with EPIPE, not kill us.
    std::signal(SIGPIPE, SIG_IGN);
    // Everything in the core runs on this one thread, so the scheduler and the reactor need no
    // locks (with a plain hint of 1 they still take ~20 mutex pairs per proxied request).
    asio::io_context io(ASIO_CONCURRENCY_HINT_UNSAFE);
    Server server(io, options, listen_fd, std::move(app_options_parser));

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

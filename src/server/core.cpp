#include "server/core.hpp"

#include "common/core_environment.hpp"
#include "common/event_loops.hpp"
#include "common/file_limit.hpp"
#include "common/log.hpp"
#include "server/server.hpp"
#include "server/tls_credentials_watch.hpp"

#include <malloc.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/signal_set.hpp>

#include <csignal>
#include <cstdlib>
#include <functional>
#include <optional>
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
// The limit was raised as far as the hard one allows (as nginx's worker_rlimit_nofile does); say
// so when that is not enough for --max-connections.
void warn_if_too_few_descriptors(const FileLimit& limit, int max_connections) {
    constexpr rlim_t per_connection = 2;
    constexpr rlim_t own_descriptors = 128;
    const rlim_t needed = static_cast<rlim_t>(max_connections) * per_connection + own_descriptors;
    if (limit.error || limit.now >= needed) return;
    log::warn(
        "--max-connections {} may need {} file descriptors, but the limit is {} (ulimit -n); "
        "past it, new connections wait until descriptors free up",
        max_connections, needed, limit.now);
}

// glibc gives the top of its heap back to the kernel whenever more than M_TRIM_THRESHOLD
// (128 KiB, or twice the largest mmap'd chunk freed so far) is free there, and takes it back
// (brk, then a page fault per 4 KiB touched) on the next request: with 50 connections relaying
// 100 KiB responses that was 3-6 page faults per request and up to half the req/s on this VM,
// depending on where small long-lived objects happened to sit (bench/RESULTS.md, "Waiting by
// receiving"). Memory goes back when connections go idle instead: the parking lot calls
// malloc_trim(0) after a burst. Fixing the trim threshold turns off glibc's moving mmap
// threshold, so that one is set to the ceiling glibc's own would reach (32 MiB), lest every
// buffer past 128 KiB be a fresh mmap.
void keep_heap_between_requests() {
    ::mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    ::mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
}

}  // namespace

int run_core(const config::Options& options, int listen_fd, AppOptionsParser app_options_parser) {
    // Writes to a closed client socket (sendfile included) must fail with EPIPE, not kill us.
    std::signal(SIGPIPE, SIG_IGN);
    keep_heap_between_requests();
    FileLimit file_limit = raise_open_file_limit();
    if (file_limit.error) {
        log::warn("{}", describe(file_limit));
    } else {
        log::notice("{}", describe(file_limit));
    }
    warn_if_too_few_descriptors(file_limit, options.max_connections);
    // --core-threads event loops; the main one (this thread) also runs the pool, the admin
    // socket and the signals below.
    size_t threads =
        options.core_threads > 0 ? static_cast<size_t>(options.core_threads) : available_cpus();
    EventLoops loops(threads);
    log::info("Serving connections on {} thread(s)", threads);
    asio::io_context& io = loops.main();
    Server server(loops, options, listen_fd, std::move(app_options_parser));
    std::optional<TlsCredentialsWatch> tls_watch;
    if (options.ssl) {
        // The private key lives in this process's memory: an app process running as the same
        // user must not be able to read it through /proc/PID/mem or ptrace.
        ::prctl(PR_SET_DUMPABLE, 0);
        auto protocols = config::parse_ssl_protocols(options.ssl_protocols);
        if (auto* reason = std::get_if<std::string>(&protocols)) {
            log::error("--ssl-protocols: {}", *reason);
            return 1;
        }
        tls_watch.emplace(io, kCoreTlsChannelFd, server, std::get<config::SslProtocols>(protocols));
        std::string error = tls_watch->receive_first(options.ssl_port != 0 ? kCoreSslListenFd : -1);
        if (!error.empty()) {
            log::error("{}", error);
            return 1;
        }
        tls_watch->watch();
    }

    // SIGTERM drains first when --drain-timeout is set (what balancers and init systems send);
    // SIGINT (Ctrl-C, plain `passenger stop`, or a second signal) stops at once.
    asio::signal_set stop_signals(io, SIGTERM, SIGINT);
    std::function<void(const asio::error_code&, int)> on_stop_signal =
        [&](const asio::error_code& error, int signal) {
            if (error) return;
            log::notice("Received signal {}; {}", signal,
                        server.shutting_down() ? "already shutting down" : "shutting down");
            const bool drain = signal == SIGTERM && options.operations.drain_timeout_seconds > 0;
            asio::co_spawn(io, drain ? server.drain_and_shut_down() : server.shut_down(),
                           asio::detached);
            stop_signals.async_wait(on_stop_signal);
        };
    stop_signals.async_wait(on_stop_signal);
    asio::signal_set reopen_signal(io, SIGUSR1);  // logrotate, via the watchdog
    std::function<void(const asio::error_code&, int)> on_reopen = [&](const asio::error_code& error,
                                                                      int) {
        if (error) return;
        server.reopen_logs();
        reopen_signal.async_wait(on_reopen);
    };
    reopen_signal.async_wait(on_reopen);

    server.start();
    report_ready();
    loops.run();
    return 0;
}

}  // namespace passenger::server

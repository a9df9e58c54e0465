#include "pool/group.hpp"

#include "common/log.hpp"
#include "http/error_page.hpp"

#include <fmt/format.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <csignal>

namespace passenger::pool {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Group::Waiter {
    explicit Waiter(asio::io_context& io) : wakeup(io, Clock::time_point::max()) {}
    asio::steady_timer wakeup;  // cancelled when the waiter got a process or an error
    std::shared_ptr<Process> process;
    int error_status = 0;
    std::string error_detail_html;
};

Group::Group(asio::io_context& io, const config::Options& options, spawn::Spawner& spawner,
             spawn::ChildReaper& reaper)
    : io_(io), options_(options), spawner_(spawner), reaper_(reaper) {}

void Group::start() {
    int count = std::min(options_.min_instances, options_.max_pool_size);
    for (int i = 0; i < count; ++i) spawn_one();
}

std::shared_ptr<Process> Group::least_busy_with_capacity() const {
    std::shared_ptr<Process> best;
    for (const auto& process : processes_) {
        if (process->has_capacity() && (!best || process->sessions < best->sessions))
            best = process;
    }
    return best;
}

bool Group::may_spawn() const {
    return !shutting_down_ &&
           static_cast<int>(processes_.size()) + spawning_ < options_.max_pool_size;
}

bool Group::in_failure_backoff() const {
    return Clock::now() < backoff_until_;
}

asio::awaitable<SessionResult> Group::get_session() {
    SessionResult result;
    if (shutting_down_) {
        result.error_status = 503;
        result.error_detail_html = "<p>The server is shutting down.</p>";
        co_return result;
    }
    if (auto process = least_busy_with_capacity()) {
        ++process->sessions;
        result.session = Session(this, std::move(process));
        co_return result;
    }
    if (processes_.empty() && spawning_ == 0 && in_failure_backoff()) {
        result.error_status = 500;
        result.error_detail_html = last_failure_html_;
        co_return result;
    }
    if (options_.max_request_queue_size > 0 &&
        static_cast<int>(queue_.size()) >= options_.max_request_queue_size) {
        result.error_status = 503;
        result.error_detail_html = "<p>The request queue is full. Please try again later.</p>";
        co_return result;
    }
    auto waiter = std::make_shared<Waiter>(io_);
    queue_.push_back(waiter);
    if (spawning_ < static_cast<int>(queue_.size()) && may_spawn()) spawn_one();

    asio::error_code ignored;
    co_await waiter->wakeup.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    if (waiter->process) {
        result.session = Session(this, std::move(waiter->process));
    } else {
        result.error_status = waiter->error_status;
        result.error_detail_html = std::move(waiter->error_detail_html);
    }
    co_return result;
}

void Group::serve_queue() {
    while (!queue_.empty()) {
        auto process = least_busy_with_capacity();
        if (!process) return;
        auto waiter = std::move(queue_.front());
        queue_.pop_front();
        ++process->sessions;
        waiter->process = std::move(process);
        waiter->wakeup.cancel();
    }
}

void Group::fail_queue(int status, const std::string& detail_html) {
    for (auto& waiter : queue_) {
        waiter->error_status = status;
        waiter->error_detail_html = detail_html;
        waiter->wakeup.cancel();
    }
    queue_.clear();
}

void Group::on_session_released(Process& process) {
    --process.sessions;
    ++process.processed;
    process.last_used = Clock::now();
    serve_queue();
}

void Group::spawn_one() {
    ++spawning_;
    asio::co_spawn(io_, run_spawn(), asio::detached);
}

asio::awaitable<void> Group::run_spawn() {
    auto started = Clock::now();
    spawn::SpawnResult result = co_await spawner_.spawn();
    --spawning_;
    if (!result.ok) {
        log::error("Could not start the application: {}", result.failure);
        backoff_ = std::min<std::chrono::milliseconds>(backoff_ == 0ms ? 500ms : backoff_ * 2, 5s);
        backoff_until_ = Clock::now() + backoff_;
        last_failure_html_ = spawn_failure_html(result);
        if (processes_.empty() && spawning_ == 0) fail_queue(500, last_failure_html_);
        co_return;
    }
    backoff_ = 0ms;
    auto process = std::make_shared<Process>();
    process->pid = result.pid;
    process->endpoint = result.endpoint;
    process->output = std::move(result.output);
    process->spawned_at = process->last_used = Clock::now();
    processes_.push_back(process);
    reaper_.watch(process->pid,
                  [this, process](int wait_status) { on_process_exited(process, wait_status); });
    log::notice(
        "App process {} is ready ({} ms)", process->pid,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count());
    if (shutting_down_) {
        process->alive = false;
        process->stop_requested = true;
        ::kill(-process->pid, SIGTERM);
        co_return;
    }
    serve_queue();
}

void Group::on_process_exited(const std::shared_ptr<Process>& process, int wait_status) {
    bool expected = process->stop_requested;
    process->alive = false;
    process->idle_connections.clear();
    std::erase(processes_, process);
    if (expected) {
        log::info("App process {} {}", process->pid, spawn::describe_exit(wait_status));
        return;
    }
    log::error("App process {} {} unexpectedly; {} request(s) in flight fail", process->pid,
               spawn::describe_exit(wait_status), process->sessions);
    if (shutting_down_) return;
    bool needed = static_cast<int>(processes_.size()) + spawning_ <
                      std::min(options_.min_instances, options_.max_pool_size) ||
                  (!queue_.empty() && processes_.empty() && spawning_ == 0);
    if (needed && may_spawn()) spawn_one();
}

void Group::on_process_unreachable(Process& process) {
    if (!process.alive) return;
    process.alive = false;
    process.idle_connections.clear();
    ::kill(-process.pid, SIGKILL);
}

asio::awaitable<void> Group::shutdown() {
    shutting_down_ = true;
    fail_queue(503, "<p>The server is shutting down.</p>");
    auto signal_all = [this](int signal) {
        for (auto& process : processes_) {
            process->alive = false;
            process->stop_requested = true;
            ::kill(-process->pid, signal);
        }
    };
    signal_all(SIGTERM);
    asio::steady_timer timer(io_);
    auto wait_until_gone = [&](std::chrono::milliseconds limit) -> asio::awaitable<void> {
        auto deadline = Clock::now() + limit;
        while ((!processes_.empty() || spawning_ > 0) && Clock::now() < deadline) {
            timer.expires_after(10ms);
            co_await timer.async_wait(asio::use_awaitable);
            signal_all(SIGTERM);  // also reaches processes that finished spawning meanwhile
        }
    };
    co_await wait_until_gone(std::chrono::seconds(options_.app_stop_timeout_seconds));
    if (!processes_.empty()) {
        log::warn("{} app process(es) did not stop in time; killing them", processes_.size());
        signal_all(SIGKILL);
        co_await wait_until_gone(2s);
    }
}

std::string Group::spawn_failure_html(const spawn::SpawnResult& result) const {
    if (options_.production()) {
        return "<p>We're sorry, but something went wrong. The application could not be "
               "started; the server log says why.</p>";
    }
    return fmt::format(
        "<p>The application in {} could not be started.</p>\n<p>{}</p>\n"
        "<h2>Application output</h2>\n<pre>{}</pre>\n"
        "<p>This detailed page is shown because the environment is '{}'; in production a "
        "generic page is shown instead.</p>",
        http::html_escape(options_.app_root), http::html_escape(result.failure),
        http::html_escape(result.recent_output), http::html_escape(options_.environment));
}

}  // namespace passenger::pool

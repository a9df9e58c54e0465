// A real pool for unit tests: the real Spawner starts tiny real apps (a generic app: a Node
// one-liner listening on $PORT), in app folders of their own; helpers run the event loop until
// something observable happens, bounded in time.
#pragma once

#include "pool/pool.hpp"

#include <gtest/gtest.h>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace passenger::pool::testing {

// A request's outcome once the pool answered it (a session or an error); empty while queued.
struct PendingSession {
    std::optional<SessionResult> result;
    bool answered() const { return result.has_value(); }
    bool served() const { return result && result->session; }
    Process& process() const { return result->session.process(); }
    void release() { result->session.release(); }
};

// The settings of a new app (its own folder, added to `dirs` for removal) that listens on $PORT
// and answers 200.
inline std::shared_ptr<config::Options> tiny_app_options(std::vector<std::string>& dirs) {
    std::string pattern = std::filesystem::temp_directory_path().string() + "/pool-app-XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    dirs.push_back(pattern);
    auto options = std::make_shared<config::Options>();
    options->app_root = pattern;
    options->app_start_command =
        "exec node -e \"require('http').createServer((q, s) => s.end('ok'))"
        ".listen(+process.env.PORT, '127.0.0.1')\"";
    options->max_concurrent_requests = 1;  // selection and queueing are visible
    options->app_stop_timeout_seconds = 2;
    return options;
}

class PoolHarness {
  public:
    explicit PoolHarness(int max_pool_size)
        : spawner_(io_, reaper_), pool_(io_, max_pool_size, spawner_, reaper_) {}

    ~PoolHarness() {
        bool done = false;
        asio::co_spawn(io_, pool_.shutdown(), [&done](std::exception_ptr) { done = true; });
        run_until([&] { return done; });
        std::error_code ignored;
        for (const auto& dir : app_dirs_) std::filesystem::remove_all(dir, ignored);
    }

    asio::io_context& io() { return io_; }
    Pool& pool() { return pool_; }

    std::shared_ptr<config::Options> app_options() { return tiny_app_options(app_dirs_); }

    // Runs the event loop until `done` holds; fails the test after `limit`.
    bool run_until(const std::function<bool()>& done,
                   std::chrono::seconds limit = std::chrono::seconds(30)) {
        auto deadline = std::chrono::steady_clock::now() + limit;
        while (!done()) {
            if (std::chrono::steady_clock::now() > deadline) {
                ADD_FAILURE() << "timed out waiting";
                return false;
            }
            io_.run_for(std::chrono::milliseconds(5));
        }
        return true;
    }

    // Asks `group` for a session; the answer arrives while the loop runs.
    std::shared_ptr<PendingSession> request(Group& group) {
        auto pending = std::make_shared<PendingSession>();
        asio::co_spawn(io_, group.get_session(),
                       [pending](std::exception_ptr, SessionResult result) {
                           pending->result = std::move(result);
                       });
        return pending;
    }

    // Asks and waits for the answer.
    std::shared_ptr<PendingSession> session(Group& group) {
        auto pending = request(group);
        run_until([&] { return pending->answered(); });
        return pending;
    }

    void wait_for_ready(const Group& group, int count) {
        run_until([&] { return ready_count(group) == count && group.spawning() == 0; });
    }

    static int ready_count(const Group& group) {
        int count = 0;
        for (const auto& process : group.processes()) count += process->ready() ? 1 : 0;
        return count;
    }

    static std::vector<pid_t> ready_pids(const Group& group) {
        std::vector<pid_t> pids;
        for (const auto& process : group.processes())
            if (process->ready()) pids.push_back(process->pid);
        return pids;
    }

  private:
    asio::io_context io_;
    spawn::ChildReaper reaper_{io_};
    spawn::Spawner spawner_;
    Pool pool_;
    std::vector<std::string> app_dirs_;
};

}  // namespace passenger::pool::testing

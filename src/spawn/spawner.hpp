// Starts app processes: fork/exec with the app's environment, in their own process group, dying
// with the core (PR_SET_PDEATHSIG); their output goes to the log; a spawn succeeds once the app
// accepts connections on its Unix socket, and fails when it exits first or exceeds the start
// timeout.
#pragma once

#include "config/options.hpp"
#include "spawn/app_detection.hpp"
#include "spawn/app_endpoint.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/output_forwarder.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace passenger::spawn {

struct SpawnResult {
    bool ok = false;
    pid_t pid = -1;
    AppEndpoint endpoint;                     // where the app listens (ok only)
    std::shared_ptr<OutputForwarder> output;  // keeps forwarding for the process's lifetime
    std::string failure;                      // one line: why the spawn failed (not ok only)
    std::string recent_output;                // what the app printed before failing
};

class Spawner {
  public:
    Spawner(asio::io_context& io, const config::Options& options, ChildReaper& reaper);
    ~Spawner();
    Spawner(const Spawner&) = delete;
    Spawner& operator=(const Spawner&) = delete;

    asio::awaitable<SpawnResult> spawn();

  private:
    std::vector<std::string> command_line(const std::string& startup_file) const;
    std::vector<std::string> environment(const std::string& socket_path, int port) const;

    asio::io_context& io_;
    const config::Options& options_;
    ChildReaper& reaper_;
    std::string socket_dir_;
    unsigned next_socket_number_ = 0;
};

}  // namespace passenger::spawn

// Starts app processes: fork/exec of the app's command (spawn/app_command) with the app's
// environment, in their own process group, dying with the core (PR_SET_PDEATHSIG); their output
// goes to the log; a spawn succeeds once the app accepts connections on its Unix socket (node,
// rack, wsgi) or loopback port (meteor, generic), and fails when it exits first or exceeds the
// start timeout.
#pragma once

#include "common/file_descriptor.hpp"

#include "config/options.hpp"
#include "spawn/app_command.hpp"
#include "spawn/app_detection.hpp"
#include "spawn/app_endpoint.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/directory_watch.hpp"
#include "spawn/output_forwarder.hpp"
#include "spawn/readiness_wait.hpp"
#include "spawn/spawn_helper_client.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace passenger::spawn {

struct SpawnResult {
    bool ok = false;
    pid_t pid = -1;
    std::string app_type;                     // node, rack, wsgi, meteor, generic (ok only)
    AppEndpoint endpoint;                     // where the app listens (ok only)
    std::shared_ptr<OutputForwarder> output;  // keeps forwarding for the process's lifetime
    std::string failure;                      // one line: why the spawn failed (not ok only)
    std::string recent_output;                // what the app printed before failing
};

class Spawner {
  public:
    Spawner(asio::io_context& io, ChildReaper& reaper);
    ~Spawner();
    Spawner(const Spawner&) = delete;
    Spawner& operator=(const Spawner&) = delete;

    // One process of the app `options` describes (the pool keeps them alive until this returns).
    asio::awaitable<SpawnResult> spawn(const config::Options& options);

    // SIGTERM or SIGKILL to an app process's group: directly, or through the spawn helper
    // when the apps run as other users than the core.
    void signal_process_group(pid_t pid, int signal);
    // Private dirty memory (KiB) of these app processes as the spawn helper reads it (the core
    // may not read another user's /proc/PID/smaps_rollup); nullopt without a helper: read it.
    asio::awaitable<std::optional<std::map<pid_t, uint64_t>>> private_memory_kb(
        std::vector<pid_t> pids);

  private:
    // The app's environment; PASSENGER_APP_SOCKET only when `socket_path` is not empty.
    static std::vector<std::string> environment(const config::Options& options,
                                                const std::string& socket_path, int port);
    static std::optional<std::string> variable(const std::vector<std::string>& environment,
                                               std::string_view name);
    // Wakes every spawn waiting for its app's socket file: one of them has appeared.
    void on_socket_dir_changed();
    // Forks the app: here, or in the spawn helper as the app's user.
    asio::awaitable<ChildProcess> start_process(const AppCommand& command,
                                                const std::vector<std::string>& environment,
                                                const config::Options& options,
                                                const AppDetection& app, unsigned number);

    asio::io_context& io_;
    ChildReaper& reaper_;
    std::string socket_dir_;
    FileDescriptor socket_dir_in_use_;  // its in-use lock (common/folder_in_use.hpp)
    unsigned next_socket_number_ = 0;
    std::vector<std::weak_ptr<ReadinessWait>> waiting_for_sockets_;
    DirectoryWatch socket_dir_watch_;  // after what its handler uses
    bool socket_dir_watched_ = false;
    std::unique_ptr<SpawnHelperClient> helper_;  // when apps run as their owners (nginx, root)
};

}  // namespace passenger::spawn

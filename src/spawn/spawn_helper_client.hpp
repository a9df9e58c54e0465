// The core's side of the spawn helper (spawn_helper.hpp). The core starts the helper while it is
// still root, right before it drops to its user (start_spawn_helper), and the Spawner then starts
// every app process through it (spawn), signals them through it (the core may not signal another
// user's processes), learns of their exits from it (handed to the ChildReaper as if reaped), and
// asks it for their private memory (which only root or the app's user can read).
#pragma once

#include "common/file_descriptor.hpp"
#include "spawn/child_process.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/helper_messages.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace passenger::spawn {

struct StartedHelper {
    FileDescriptor socket;  // the core's end
    pid_t pid = -1;
    std::string socket_dir;  // where the apps' socket folders go
    std::string error;       // one line when it could not be started
};

// Set (to 1) by the nginx module when some app's account directive names root: only then may the
// helper run an app as root (a core taken over cannot ask for root otherwise).
inline constexpr const char* kAllowRootAppsVariable = "PASSENGER_ALLOW_ROOT_APPS";

// Forks and execs `passenger spawn-helper` (this binary), which stays root; waits for its
// "ready". Called by the core as root, before it becomes `core_user`.
StartedHelper start_spawn_helper(const std::string& core_user, const std::string& log_file,
                                 int log_level, bool allow_root_apps);

// The helper started for this core process, if any (kept from start_spawn_helper until the
// Spawner takes it).
void keep_started_helper(StartedHelper helper);
std::optional<StartedHelper> take_started_helper();

class SpawnHelperClient {
  public:
    SpawnHelperClient(asio::io_context& io, StartedHelper helper, ChildReaper& reaper);
    SpawnHelperClient(const SpawnHelperClient&) = delete;
    SpawnHelperClient& operator=(const SpawnHelperClient&) = delete;

    const std::string& socket_dir() const { return socket_dir_; }

    // `request`: the spawn message without "op" and "id". The child's pid and pipes, or why not.
    asio::awaitable<ChildProcess> spawn(nlohmann::json request);
    // SIGTERM or SIGKILL to the process group of an app process the helper started.
    void signal_process_group(pid_t pid, int signal);
    // Private dirty memory (KiB) of these processes (members of app process groups).
    asio::awaitable<std::map<pid_t, uint64_t>> private_memory_kb(std::vector<pid_t> pids);

  private:
    struct Pending {
        explicit Pending(asio::io_context& io) : wake(io) {}
        asio::steady_timer wake;
        std::optional<HelperMessage> reply;
    };
    asio::awaitable<std::optional<HelperMessage>> request(nlohmann::json body);
    void read_messages();
    void on_message(HelperMessage message);

    asio::io_context& io_;
    ChildReaper& reaper_;
    FileDescriptor socket_;
    std::string socket_dir_;
    asio::posix::stream_descriptor readable_;  // a watch on socket_ (does not own it)
    uint64_t next_id_ = 1;
    std::map<uint64_t, std::shared_ptr<Pending>> pending_;
};

}  // namespace passenger::spawn

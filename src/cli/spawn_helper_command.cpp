// Hidden `passenger spawn-helper CORE_USER LOG_FILE LOG_LEVEL root-allowed|no-root`: the root
// process that starts apps as their owners for a core that runs as CORE_USER
// (spawn/spawn_helper.hpp). Only a core starts it, with the socket to it at fd 3.
#include "cli/subcommands.hpp"
#include "common/log.hpp"
#include "spawn/spawn_helper.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <unistd.h>

namespace passenger::cli {

int run_spawn_helper_command(const std::vector<std::string>& args) {
    constexpr int kSocketFd = 3;
    int type = 0;
    socklen_t length = sizeof type;
    if (args.size() != 4 || ::getsockopt(kSocketFd, SOL_SOCKET, SO_TYPE, &type, &length) != 0 ||
        type != SOCK_SEQPACKET) {
        fmt::print(stderr, "passenger spawn-helper: started by the core, not by hand\n");
        return 1;
    }
    log::set_level(static_cast<log::Level>(std::atoi(args[2].c_str())));
    // The core (still root) opened the same log file a moment ago by root's rules.
    if (std::string error = log::open(args[1], args[1].empty()); !error.empty()) {
        fmt::print(stderr, "passenger spawn-helper: {}\n", error);
        return 1;
    }
    return spawn::run_spawn_helper(kSocketFd, args[0], args[3] == "root-allowed");
}

}  // namespace passenger::cli

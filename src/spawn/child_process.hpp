// fork/exec of one app process: its own process group, killed when its parent dies (the core, or
// the spawn helper), stdout and stderr on pipes, no inherited descriptors, default signal
// handling; as another user when credentials are given (the spawn helper, as root).
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

namespace passenger::spawn {

struct ChildProcess {
    pid_t pid = -1;
    int stdout_fd = -1;  // read ends, owned by the caller
    int stderr_fd = -1;
    std::string error;  // why it could not be started (pid < 0)
};

// Who the child becomes before exec (groups first, then the group, then the user).
struct ChildCredentials {
    uid_t uid = 0;
    gid_t gid = 0;
    std::vector<gid_t> groups;  // supplementary groups
};

ChildProcess start_child_process(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment,
                                 const std::string& working_directory,
                                 const ChildCredentials* credentials = nullptr);

}  // namespace passenger::spawn

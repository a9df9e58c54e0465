// fork/exec of one app process: its own process group, killed when the core dies, stdout and
// stderr on pipes, no inherited descriptors, default signal handling.
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

ChildProcess start_child_process(const std::vector<std::string>& argv,
                                 const std::vector<std::string>& environment,
                                 const std::string& working_directory);

}  // namespace passenger::spawn

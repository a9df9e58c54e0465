#include "common/exit_status.hpp"

#include <fmt/format.h>
#include <sys/wait.h>

#include <cstring>

namespace passenger {

std::string describe_exit(int wait_status) {
    if (WIFEXITED(wait_status)) return fmt::format("exited with code {}", WEXITSTATUS(wait_status));
    if (WIFSIGNALED(wait_status)) {
        int signal = WTERMSIG(wait_status);
        return fmt::format("was killed by signal {} ({})", signal, strsignal(signal));
    }
    return fmt::format("ended with status {}", wait_status);
}

}  // namespace passenger

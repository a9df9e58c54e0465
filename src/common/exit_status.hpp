// How a child process ended, in words, for the log: the watchdog's core and the core's apps.
#pragma once

#include <string>

namespace passenger {

// "exited with code 3" / "was killed by signal 9 (Killed)", from a waitpid() status.
std::string describe_exit(int wait_status);

}  // namespace passenger

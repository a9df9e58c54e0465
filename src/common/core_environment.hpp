// The contract between the watchdog and `passenger core` (the hidden subcommand it execs).
// The watchdog sets these variables; the core reads and then unsets them, and the spawner leaves
// them out of an app's environment (is_core_variable), so that app processes never see them.
#pragma once

#include <string_view>

namespace passenger {

// The whole config::Options as JSON.
inline constexpr const char* kCoreOptionsVariable = "PASSENGER_CORE_OPTIONS";
// The number of the inherited, already listening socket (always 3 today).
inline constexpr const char* kListenFdVariable = "PASSENGER_LISTEN_FD";
// Optional: the write end of a pipe; the core writes one byte "1" and closes it once it accepts.
// Read by server::run_core itself.
inline constexpr const char* kReadyFdVariable = "PASSENGER_READY_FD";
// The watchdog's pid: the core exits at once if its parent is already someone else, since
// PR_SET_PDEATHSIG would then never fire.
inline constexpr const char* kWatchdogPidVariable = "PASSENGER_WATCHDOG_PID";

inline constexpr int kCoreListenFd = 3;
inline constexpr int kCoreReadyFd = 4;
// With --ssl and --ssl-port: the HTTPS listening socket (fd 3 is then plain HTTP; without
// --ssl-port, fd 3 is HTTPS).
inline constexpr int kCoreSslListenFd = 5;
// With --ssl: the core's end of the TLS credentials channel (tls/credentials_channel.hpp).
inline constexpr int kCoreTlsChannelFd = 6;

// Whether an environment entry ("NAME=value") is one of the variables above.
inline bool is_core_variable(std::string_view entry) {
    for (std::string_view name :
         {kCoreOptionsVariable, kListenFdVariable, kReadyFdVariable, kWatchdogPidVariable}) {
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return true;
    }
    return false;
}

}  // namespace passenger

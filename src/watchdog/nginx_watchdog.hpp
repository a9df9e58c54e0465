// What the nginx module starts once per nginx master: the watchdog of integration mode. It binds
// the module's socket (module_socket.hpp), reports it to the module, then supervises the core as
// in Standalone mode, until nginx stops.
//
// The module's descriptors:
//   fd 3, the lifeline: "q" (nginx -s quit) or end of file stops gracefully, "s" (nginx -s stop)
//         stops at once, "c" + frame is a configuration cycle's apps and settings
//         (core_configuration.hpp);
//   fd 4, the report: one line, "listening PATH" once the socket is bound, or "error MESSAGE".
#pragma once

#include "config/options.hpp"

namespace passenger::watchdog {

inline constexpr int kLifelineFd = 3;
inline constexpr int kReportFd = 4;

// `options`: the server-wide settings (log, pool size, registry, --user: nginx's worker user).
int run_nginx_watchdog(const config::Options& options);

// Writes the report line ("error MESSAGE" for a failure before the socket was bound).
void report_to_module(const std::string& line);

}  // namespace passenger::watchdog

// The core process: the HTTP front end, the application pool, and (later) the admin socket.
#pragma once

#include "config/options.hpp"
#include "server/integration_apps.hpp"

namespace passenger::server {

// Serves on the already-bound, listening socket `listen_fd` until SIGTERM/SIGINT, then shuts
// down gracefully (requests in flight finish, app processes stop). Returns the exit code.
// With `app_options_parser` it serves the nginx module instead (integration mode, see Server).
int run_core(const config::Options& options, int listen_fd,
             AppOptionsParser app_options_parser = {});

}  // namespace passenger::server

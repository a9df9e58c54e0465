#include "pool/app_settings.hpp"

#include <nlohmann/json.hpp>

namespace passenger::pool {

std::string group_key(const config::Options& options) {
    if (options.base_uri.empty()) return options.app_root;
    return options.app_root + " (at " + options.base_uri + ")";
}

std::string app_settings_fingerprint(const config::Options& options) {
    nlohmann::json json = options;
    for (const char* server_wide :
         {"address", "port", "log_file", "pid_file", "daemonize", "log_level",
          "instance_registry_dir", "max_pool_size", "pool_idle_time_seconds", "front_end",
          "graceful_shutdown_seconds"})
        json.erase(server_wide);
    return json.dump();
}

}  // namespace passenger::pool

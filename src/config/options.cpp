#include "config/options.hpp"

#include <nlohmann/json.hpp>

namespace passenger::config {
namespace detail {
// The macro defines inline to_json/from_json; they are wrapped below so other translation units
// only need the forward declarations in options.hpp.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(FrontEndOptions, client_max_body_size,
                                                client_max_header_size, client_max_header_line_size,
                                                client_max_header_count, client_max_uri_size,
                                                client_body_buffer_size, response_buffer_size,
                                                data_buffer_dir, client_header_timeout_seconds,
                                                client_body_timeout_seconds,
                                                keepalive_timeout_seconds, send_timeout_seconds)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(OperationsOptions, health_check_path,
                                                drain_timeout_seconds, trusted_proxies,
                                                metrics_address, log_format, access_log,
                                                access_log_format, host_apps)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE_WITH_DEFAULT(
    Options, app_root, address, port, environment, log_file, pid_file, daemonize, user, log_level,
    max_connections, core_threads, app_type, startup_file, nodejs, rackup, ruby, python,
    meteor_app_settings, app_start_command, envvars, user_switching, app_user, app_group,
    default_user, default_group, min_instances, max_pool_size, start_timeout_seconds,
    max_request_queue_size, pool_idle_time_seconds, max_requests, max_concurrent_requests,
    max_request_queue_time_seconds, max_request_time_seconds, rolling_restarts,
    resist_deployment_errors, memory_limit_mb, stat_throttle_rate_seconds, saturation_cpu_percent,
    saturation_sessions, sticky_sessions, sticky_sessions_cookie_name,
    sticky_sessions_cookie_attributes, abort_websockets_on_process_shutdown, front_end,
    graceful_shutdown_seconds, app_stop_timeout_seconds, instance_registry_dir, integration_mode,
    friendly_error_pages, base_uri, operations, ssl, ssl_certificate, ssl_certificate_key, ssl_port,
    ssl_protocols, ssl_redirect)
}  // namespace detail

void to_json(nlohmann::json& json, const FrontEndOptions& options) {
    detail::to_json(json, options);
}
void from_json(const nlohmann::json& json, FrontEndOptions& options) {
    detail::from_json(json, options);
}
void to_json(nlohmann::json& json, const OperationsOptions& options) {
    detail::to_json(json, options);
}
void from_json(const nlohmann::json& json, OperationsOptions& options) {
    detail::from_json(json, options);
}
void to_json(nlohmann::json& json, const Options& options) {
    detail::to_json(json, options);
}
void from_json(const nlohmann::json& json, Options& options) {
    detail::from_json(json, options);
}

}  // namespace passenger::config

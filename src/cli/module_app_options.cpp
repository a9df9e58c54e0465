#include "cli/module_app_options.hpp"

#include "cli/start_options.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

namespace passenger::cli {

std::variant<config::Options, std::string> module_app_options(const config::Options& core,
                                                              nlohmann::json settings) {
    const std::string typed_root = settings.value("app_root", "");
    settings.erase("app_root");
    // Not a `passenger start` option: Standalone follows the environment.
    int friendly_error_pages = -1;
    if (auto found = settings.find("friendly_error_pages"); found != settings.end()) {
        if (!found->is_boolean()) return std::string("friendly_error_pages must be true or false");
        friendly_error_pages = found->get<bool>() ? 1 : 0;
        settings.erase(found);
    }
    std::string base_uri;
    if (auto found = settings.find("base_uri"); found != settings.end()) {
        if (!found->is_string() || !found->get<std::string>().starts_with('/'))
            return std::string("base_uri must be a path starting with /");
        base_uri = found->get<std::string>();
        settings.erase(found);
    }
    StartCommandLine parsed = parse_start_options({}, settings, "passenger_* settings");
    if (!parsed.error.empty()) return parsed.error;
    char resolved[PATH_MAX];
    struct stat info {};
    if (::realpath(typed_root.c_str(), resolved) == nullptr)
        return fmt::format("app root {}: {}", typed_root, std::strerror(errno));
    if (::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode))
        return fmt::format("app root {} is not a folder", typed_root);

    // Server-wide settings are the core's; what the module can set per app is the app's.
    const config::Options& app = parsed.options;
    config::Options options = core;
    options.app_root = resolved;
    options.environment = app.environment;
    options.app_type = app.app_type;
    options.startup_file = app.startup_file;
    options.nodejs = app.nodejs;
    options.ruby = app.ruby;
    options.python = app.python;
    options.meteor_app_settings = app.meteor_app_settings;
    options.app_start_command = app.app_start_command;
    options.envvars = app.envvars;
    options.min_instances = app.min_instances;
    options.start_timeout_seconds = app.start_timeout_seconds;
    options.max_request_queue_size = app.max_request_queue_size;
    options.max_requests = app.max_requests;
    options.max_request_time_seconds = app.max_request_time_seconds;
    options.rolling_restarts = app.rolling_restarts;
    options.resist_deployment_errors = app.resist_deployment_errors;
    options.memory_limit_mb = app.memory_limit_mb;
    options.sticky_sessions = app.sticky_sessions;
    options.sticky_sessions_cookie_name = app.sticky_sessions_cookie_name;
    options.friendly_error_pages = friendly_error_pages;
    options.base_uri = base_uri;
    return options;
}

}  // namespace passenger::cli

#include "cli/module_app_options.hpp"

#include "cli/start_options.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <filesystem>

namespace passenger::cli {

namespace {

// The account settings (passenger_user_switching, passenger_user, ...): nginx mode's only, so
// not `passenger start` options; taken out of the block before it is parsed as those.
struct AccountSettings {
    bool user_switching = true;
    std::string user, group, default_user = "nobody", default_group;
};

std::variant<AccountSettings, std::string> take_account_settings(nlohmann::json& settings) {
    AccountSettings account;
    auto take = [&settings](const char* name, std::string& field) {
        if (!settings.contains(name)) return;
        const nlohmann::json& value = settings[name];
        field = value.is_string() ? value.get<std::string>() : value.dump();
        settings.erase(name);
    };
    std::string user_switching = "true";
    take("user_switching", user_switching);  // the block's "true" arrives as a JSON switch
    if (user_switching != "true" && user_switching != "false")
        return fmt::format("user_switching: '{}' is not true or false", user_switching);
    account.user_switching = user_switching == "true";
    take("user", account.user);
    take("group", account.group);
    take("default_user", account.default_user);
    take("default_group", account.default_group);
    return account;
}

}  // namespace

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
    auto account = take_account_settings(settings);
    if (auto* error = std::get_if<std::string>(&account)) return *error;
    StartCommandLine parsed = parse_start_options({}, settings, "passenger_* settings");
    if (!parsed.error.empty()) return parsed.error;
    char resolved[PATH_MAX];
    struct stat info {};
    if (::realpath(typed_root.c_str(), resolved) == nullptr)
        return fmt::format("app root {}: {}", typed_root, std::strerror(errno));
    if (::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode))
        return fmt::format("app root {} is not a folder", typed_root);

    // Server-wide settings are the core's; what the module can set per app is the app's.
    // The app root stays as configured: a symlink (current -> releases/N) is resolved anew by
    // every spawn (spawn/README.md).
    const config::Options& app = parsed.options;
    config::Options options = core;
    std::string root = std::filesystem::path(typed_root).lexically_normal().string();
    while (root.size() > 1 && root.ends_with('/')) root.pop_back();
    options.app_root = root.starts_with('/') ? root : std::string(resolved);
    options.user_switching = std::get<AccountSettings>(account).user_switching;
    options.app_user = std::get<AccountSettings>(account).user;
    options.app_group = std::get<AccountSettings>(account).group;
    options.default_user = std::get<AccountSettings>(account).default_user;
    options.default_group = std::get<AccountSettings>(account).default_group;
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

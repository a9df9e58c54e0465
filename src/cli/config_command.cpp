// passenger-config restart-app [APP_ROOT] | list-instances | reopen-logs | reload-ssl |
// about root|nginx-module|apache2-module | --version
#include "admin/admin_client.hpp"
#include "cli/inspection_options.hpp"
#include "cli/instance_selection.hpp"
#include "cli/reload_ssl.hpp"
#include "cli/status_format.hpp"
#include "cli/subcommands.hpp"
#include "common/install_paths.hpp"
#include "config/standalone_paths.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <cstring>

#include <climits>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace passenger::cli {
namespace {

constexpr const char* kProgram = "passenger-config";

struct ServedApp {
    const admin::Instance* instance;
    std::string app_root;
};

bool under(const std::string& app_root, const std::string& prefix) {
    if (prefix == "/") return true;
    return app_root == prefix || (app_root.starts_with(prefix) && app_root[prefix.size()] == '/');
}

std::string resolve_typed_path(const std::string& typed) {
    std::string absolute = config::absolute_path(typed, current_directory());
    char resolved[PATH_MAX];
    if (::realpath(absolute.c_str(), resolved) != nullptr) return resolved;
    while (absolute.size() > 1 && absolute.back() == '/') absolute.pop_back();
    return absolute;
}

std::string error_of(const admin::AdminReply& reply) {
    nlohmann::json body = nlohmann::json::parse(reply.body, nullptr, false);
    if (body.is_object() && body.contains("error") && body["error"].is_string())
        return body["error"].get<std::string>();
    return fmt::format("status {}", reply.status);
}

int restart_app(const ConfigCommandLine& command_line, const std::string& registry) {
    std::vector<admin::Instance> instances = admin::list_instances(registry);
    if (instances.empty()) {
        fmt::print(stderr, "{} restart-app: {}\n", kProgram, not_running_message(registry));
        return 1;
    }
    if (!command_line.instance.empty()) {
        auto chosen = choose_instance(std::string(kProgram) + " restart-app", registry,
                                      command_line.instance, "");
        if (!chosen) return 1;
        instances = {std::move(*chosen)};
    }
    std::string prefix =
        command_line.app_root.empty() ? "" : resolve_typed_path(command_line.app_root);
    std::vector<ServedApp> all, matches;
    for (const admin::Instance& instance : instances) {
        for (const std::string& root : instance.properties.app_roots) {
            all.push_back({&instance, root});
            if (prefix.empty() || under(root, prefix)) matches.push_back({&instance, root});
        }
    }
    auto list = [](const std::vector<ServedApp>& apps) {
        std::string out;
        for (const ServedApp& app : apps)
            out += fmt::format("  {} (instance {})\n", app.app_root, app.instance->properties.name);
        return out;
    };
    if (matches.empty()) {
        fmt::print(stderr, "{} restart-app: no app in {} is being served; served:\n{}", kProgram,
                   prefix, list(all));
        return 1;
    }
    if (prefix.empty() && matches.size() > 1) {
        fmt::print(stderr,
                   "{} restart-app: several apps are being served; name one with `{} "
                   "restart-app APP_ROOT`:\n{}",
                   kProgram, kProgram, list(matches));
        return 1;
    }
    int exit_code = 0;
    for (const ServedApp& app : matches) {
        std::string body = nlohmann::json{{"app_root", app.app_root}}.dump();
        auto reply =
            admin::call_admin(app.instance->admin_socket(), "POST", "/pool/restart_app", body);
        std::string error;
        if (auto* failure = std::get_if<std::string>(&reply))
            error = *failure;
        else if (std::get<admin::AdminReply>(reply).status != 200)
            error = error_of(std::get<admin::AdminReply>(reply));
        if (!error.empty()) {
            fmt::print(stderr, "{} restart-app: {} (instance {}): {}\n", kProgram, app.app_root,
                       app.instance->properties.name, error);
            exit_code = 1;
            continue;
        }
        fmt::print("Restarting {} (instance {})\n", app.app_root, app.instance->properties.name);
    }
    return exit_code;
}

int list_instances(const ConfigCommandLine& command_line, const std::string& registry) {
    std::vector<admin::Instance> instances = admin::list_instances(registry);
    if (instances.empty()) {
        fmt::print(stderr, "{} list-instances: {}\n", kProgram, not_running_message(registry));
        return 1;
    }
    if (command_line.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const admin::Instance& instance : instances) {
            nlohmann::json entry = instance.properties;
            entry["dir"] = instance.dir;
            list.push_back(std::move(entry));
        }
        fmt::print("{}\n", list.dump(2));
        return 0;
    }
    fmt::print("{}", format_instance_table(instances));
    return 0;
}

// SIGUSR1 to each instance's watchdog: it reopens its log file and has the core reopen its own
// and the access log (logrotate's postrotate).
int reopen_logs(const ConfigCommandLine& command_line, const std::string& registry) {
    std::vector<admin::Instance> instances = admin::list_instances(registry);
    int signalled = 0, exit_code = 0;
    for (const admin::Instance& instance : instances) {
        if (!command_line.instance.empty() && instance.properties.name != command_line.instance)
            continue;
        const pid_t pid = static_cast<pid_t>(instance.properties.watchdog_pid);
        if (::kill(pid, SIGUSR1) != 0) {
            fmt::print(stderr, "{} reopen-logs: cannot signal instance {} (pid {}): {}\n", kProgram,
                       instance.properties.name, pid, std::strerror(errno));
            exit_code = 1;
            continue;
        }
        fmt::print("Reopening the logs of instance {} (pid {})\n", instance.properties.name, pid);
        ++signalled;
    }
    if (signalled == 0 && exit_code == 0) {
        fmt::print(stderr, "{} reopen-logs: {}\n", kProgram,
                   command_line.instance.empty()
                       ? not_running_message(registry)
                       : fmt::format("no instance named {}", command_line.instance));
        return 1;
    }
    return exit_code;
}

}  // namespace

int run_config_command(const std::vector<std::string>& args) {
    ConfigCommandLine command_line = parse_config_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    if (!command_line.error.empty()) {
        fmt::print(stderr, "{}{}{}: {}\n", kProgram, command_line.command.empty() ? "" : " ",
                   command_line.command, command_line.error);
        return 1;
    }
    if (command_line.version) {
        fmt::print("Passenger {}\n", PASSENGER_VERSION);
        return 0;
    }
    if (command_line.command == "about") {
        // The tree that holds this bin/passenger (the checkout or PREFIX) is passenger_root.
        const InstallPaths& paths = install_paths();
        fmt::print("{}\n", command_line.about == "root"           ? paths.root
                           : command_line.about == "nginx-module" ? paths.nginx_module
                                                                  : paths.apache2_module);
        return 0;
    }
    std::string registry = admin::registry_dir(command_line.registry_dir);
    if (command_line.command == "restart-app") return restart_app(command_line, registry);
    if (command_line.command == "reopen-logs") return reopen_logs(command_line, registry);
    if (command_line.command == "reload-ssl") return reload_ssl(command_line, registry);
    return list_instances(command_line, registry);
}

}  // namespace passenger::cli

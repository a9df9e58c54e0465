#include "cli/reload_ssl.hpp"

#include "admin/admin_client.hpp"
#include "admin/instance_registry.hpp"
#include "cli/instance_selection.hpp"

#include <fmt/format.h>
#include <signal.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <thread>
#include <variant>

namespace passenger::cli {
namespace {

using namespace std::chrono_literals;

constexpr const char* kCommand = "passenger-config reload-ssl";
// The watchdog reads two small files and the core makes a context: far less than this even on a
// loaded machine; past it the log says what happened.
constexpr auto kAnswerTimeout = 15s;
constexpr auto kPollInterval = 50ms;

// GET /tls as JSON, or why it could not be had.
std::variant<nlohmann::json, std::string> tls_status(const admin::Instance& instance) {
    auto reply = admin::call_admin(instance.admin_socket(), "GET", "/tls");
    if (auto* failure = std::get_if<std::string>(&reply)) return *failure;
    const auto& answer = std::get<admin::AdminReply>(reply);
    nlohmann::json status = nlohmann::json::parse(answer.body, nullptr, false);
    if (answer.status != 200 || !status.is_object())
        return fmt::format("the admin API answered GET /tls with status {}", answer.status);
    return status;
}

// SIGHUP to the instance's watchdog, then its answer: 0 when the new pair serves.
int reload_instance(const admin::Instance& instance) {
    const std::string& name = instance.properties.name;
    auto before = tls_status(instance);
    if (auto* failure = std::get_if<std::string>(&before)) {
        fmt::print(stderr, "{}: instance {}: {}\n", kCommand, name, *failure);
        return 1;
    }
    const uint64_t reloads_before = std::get<nlohmann::json>(before).value("reloads", uint64_t{0});
    const pid_t pid = static_cast<pid_t>(instance.properties.watchdog_pid);
    if (::kill(pid, SIGHUP) != 0) {
        fmt::print(stderr, "{}: cannot signal instance {} (pid {}): {}\n", kCommand, name, pid,
                   std::strerror(errno));
        return 1;
    }
    const auto deadline = std::chrono::steady_clock::now() + kAnswerTimeout;
    while (std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(kPollInterval);
        auto after = tls_status(instance);
        if (std::holds_alternative<std::string>(after)) continue;  // a core restarting
        const nlohmann::json& status = std::get<nlohmann::json>(after);
        if (status.value("reloads", uint64_t{0}) <= reloads_before) continue;
        std::string error = status.value("last_reload_error", std::string());
        if (!error.empty()) {
            fmt::print(stderr, "{}: instance {}: {}; the current certificate and key are kept\n",
                       kCommand, name, error);
            return 1;
        }
        fmt::print(
            "Reloaded the TLS certificate and key of instance {}: serving the certificate "
            "with serial {}\n",
            name, status.value("certificate_serial", std::string()));
        return 0;
    }
    fmt::print(stderr, "{}: instance {} did not answer within {} s (see its log file)\n", kCommand,
               name, std::chrono::duration_cast<std::chrono::seconds>(kAnswerTimeout).count());
    return 1;
}

}  // namespace

// Every instance serving HTTPS, or the one named. SIGHUP stops an instance without --ssl, so
// each is asked first whether it serves HTTPS.
int reload_ssl(const ConfigCommandLine& command_line, const std::string& registry) {
    std::vector<admin::Instance> instances;
    if (!command_line.instance.empty()) {
        auto chosen = choose_instance(kCommand, registry, command_line.instance, "");
        if (!chosen) return 1;
        instances.push_back(std::move(*chosen));
    } else {
        instances = admin::list_instances(registry);
    }
    int exit_code = 0, serving = 0;
    for (const admin::Instance& instance : instances) {
        auto status = tls_status(instance);
        if (auto* failure = std::get_if<std::string>(&status)) {
            fmt::print(stderr, "{}: instance {}: {}\n", kCommand, instance.properties.name,
                       *failure);
            exit_code = 1;
            continue;
        }
        if (!std::get<nlohmann::json>(status).value("serving", false)) {
            if (!command_line.instance.empty()) {
                fmt::print(stderr, "{}: instance {} does not serve HTTPS (started without --ssl)\n",
                           kCommand, instance.properties.name);
                return 1;
            }
            continue;
        }
        ++serving;
        if (reload_instance(instance) != 0) exit_code = 1;
    }
    if (serving == 0 && exit_code == 0) {
        fmt::print(stderr, "{}: {}\n", kCommand,
                   instances.empty() ? not_running_message(registry)
                                     : "no running instance serves HTTPS (started with --ssl)");
        return 1;
    }
    return exit_code;
}

}  // namespace passenger::cli

// passenger-status [INSTANCE] [--show=pool|requests|json|metrics]
#include "admin/admin_client.hpp"
#include "admin/metrics.hpp"
#include "cli/inspection_options.hpp"
#include "cli/instance_selection.hpp"
#include "cli/status_format.hpp"
#include "cli/subcommands.hpp"

#include <fmt/format.h>

#include <ctime>
#include <nlohmann/json.hpp>

namespace passenger::cli {
namespace {

constexpr const char* kProgram = "passenger-status";

// The reply's body when it is a 200, else prints the server's error and returns std::nullopt.
std::optional<std::string> fetch(const admin::Instance& instance, std::string_view target) {
    auto reply = admin::call_admin(instance.admin_socket(), "GET", target);
    if (auto* error = std::get_if<std::string>(&reply)) {
        fmt::print(stderr, "{}: instance {}: {}\n", kProgram, instance.properties.name, *error);
        return std::nullopt;
    }
    auto& answer = std::get<admin::AdminReply>(reply);
    if (answer.status != 200) {
        nlohmann::json body = nlohmann::json::parse(answer.body, nullptr, false);
        std::string why = body.is_object() && body.contains("error") && body["error"].is_string()
                              ? body["error"].get<std::string>()
                              : answer.body;
        fmt::print(stderr, "{}: instance {} refused: {} ({})\n", kProgram, instance.properties.name,
                   why, answer.status);
        return std::nullopt;
    }
    return std::move(answer.body);
}

}  // namespace

int run_status_command(const std::vector<std::string>& args) {
    StatusCommandLine command_line = parse_status_options(args);
    if (!command_line.help.empty()) {
        fmt::print("{}", command_line.help);
        return 0;
    }
    if (!command_line.error.empty()) {
        fmt::print(stderr, "{}: {}\n", kProgram, command_line.error);
        return 1;
    }
    if (command_line.version) {
        fmt::print("Passenger {}\n", PASSENGER_VERSION);
        return 0;
    }
    std::string registry = admin::registry_dir(command_line.registry_dir);
    auto instance = choose_instance(kProgram, registry, command_line.instance,
                                    std::string(kProgram) + " <NAME>");
    if (!instance) return 1;

    if (command_line.show == "metrics") {
        auto text = fetch(*instance, "/metrics");
        if (!text) return 1;
        fmt::print("{}", *text);
        return 0;
    }
    auto body = fetch(*instance, command_line.show == "requests" ? "/requests" : "/pool");
    if (!body) return 1;
    nlohmann::json json = nlohmann::json::parse(*body, nullptr, false);
    if (json.is_discarded()) {
        fmt::print(stderr, "{}: instance {} sent something that is not JSON\n", kProgram,
                   instance->properties.name);
        return 1;
    }
    if (command_line.show != "pool") {
        fmt::print("{}\n", json.dump(2));
        return 0;
    }
    admin::PoolSnapshot pool;
    try {
        pool = json.get<admin::PoolSnapshot>();
    } catch (const std::exception& error) {
        fmt::print(stderr, "{}: instance {} sent an unexpected pool description: {}\n", kProgram,
                   instance->properties.name, error.what());
        return 1;
    }
    fmt::print("{}", format_status(pool, *instance, std::time(nullptr)));
    return 0;
}

}  // namespace passenger::cli

#include "cli/instance_selection.hpp"

#include "cli/status_format.hpp"

#include <fmt/format.h>

namespace passenger::cli {

std::string not_running_message(const std::string& registry) {
    return fmt::format("Passenger is not running (no live instance in {})", registry);
}

std::optional<admin::Instance> choose_instance(const std::string& program,
                                               const std::string& registry, const std::string& name,
                                               const std::string& how_to_pick) {
    std::vector<admin::Instance> instances = admin::list_instances(registry);
    if (instances.empty()) {
        fmt::print(stderr, "{}: {}\n", program, not_running_message(registry));
        return std::nullopt;
    }
    if (!name.empty()) {
        for (admin::Instance& instance : instances) {
            if (instance.properties.name == name) return std::move(instance);
        }
        std::string names;
        for (const admin::Instance& instance : instances)
            names += (names.empty() ? "" : ", ") + instance.properties.name;
        fmt::print(stderr, "{}: no running instance is named '{}' (running: {})\n", program, name,
                   names);
        return std::nullopt;
    }
    if (instances.size() > 1) {
        fmt::print("{}", format_pick_an_instance(instances, how_to_pick));
        return std::nullopt;
    }
    return std::move(instances.front());
}

}  // namespace passenger::cli

// Which running instance a tool talks to: the one named, or the only one running.
#pragma once

#include "admin/instance_registry.hpp"

#include <optional>
#include <string>

namespace passenger::cli {

// Returns the instance named `name` (any, when empty and exactly one runs). Otherwise prints why
// and returns std::nullopt: one line on stderr when none (or none by that name) runs, or, when
// several run and none was named, the list and `how_to_pick` on stdout. The caller exits 1.
std::optional<admin::Instance> choose_instance(const std::string& program,
                                               const std::string& registry, const std::string& name,
                                               const std::string& how_to_pick);

// One line for "nothing runs", shared by the tools.
std::string not_running_message(const std::string& registry);

}  // namespace passenger::cli

// An app's Options in integration mode (nginx): the core's own, server-wide ones (log, pool size,
// registry, user) with the app's settings from the module applied exactly as Passengerfile.json's
// are, so every value is checked by `passenger start`'s code.
#pragma once

#include "config/options.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <variant>

namespace passenger::cli {

// `settings`: config::parse_settings_block's object (its app_root absolute). The app root must
// be a folder; it is stored with symlinks resolved. Returns the Options or one line saying why
// not (naming the setting).
std::variant<config::Options, std::string> module_app_options(const config::Options& core,
                                                              nlohmann::json settings);

}  // namespace passenger::cli

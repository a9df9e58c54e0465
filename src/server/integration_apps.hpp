// The apps the nginx module has named so far, by settings block: each distinct block is parsed
// and checked once (the module sends the same bytes for every request of a location), into the
// shared Options that pool::Pool::group_for finds its group by. A block that failed is tried
// again on its next request (its app folder may exist by then).
#pragma once

#include "config/options.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <variant>

namespace passenger::server {

// Settings object (config::parse_settings_block) → the app's Options, or why not. cli/ provides
// it (module_app_options), so that the rules of `passenger start` apply.
using AppOptionsParser =
    std::function<std::variant<config::Options, std::string>(const nlohmann::json& settings)>;

class IntegrationApps {
  public:
    explicit IntegrationApps(AppOptionsParser parser) : parser_(std::move(parser)) {}

    struct App {
        std::shared_ptr<const config::Options> options;  // null when `error` says why
        std::string error;
    };
    App app_for(const std::string& settings_block);

  private:
    AppOptionsParser parser_;
    std::unordered_map<std::string, App> apps_;
};

}  // namespace passenger::server

// The apps the nginx module has named so far, by settings block: each distinct block is parsed
// and checked once (the module sends the same bytes for every request of a location), into the
// shared Options its group is keyed by. A block that failed is tried again on its next request
// (its app folder may exist by then).
#pragma once

#include "config/options.hpp"
#include "pool/group.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/spawner.hpp"

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

    // Until the pool serves many apps (pool::Pool::group_for): one spawner and group per app
    // root, started on first use.
    pool::Group& group_for(const App& app, asio::io_context& io, spawn::ChildReaper& reaper);

  private:
    AppOptionsParser parser_;
    std::unordered_map<std::string, App> apps_;
    struct AppGroup {
        AppGroup(asio::io_context& io, std::shared_ptr<const config::Options> app_options,
                 spawn::ChildReaper& reaper)
            : options(std::move(app_options)),
              spawner(io, *options, reaper),
              group(io, *options, spawner, reaper) {}
        std::shared_ptr<const config::Options> options;
        spawn::Spawner spawner;
        pool::Group group;
    };
    std::unordered_map<std::string, std::unique_ptr<AppGroup>> groups_;
};

}  // namespace passenger::server

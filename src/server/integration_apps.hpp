// The apps the nginx module names, by settings block: each distinct block is parsed and checked
// once (the module sends the same bytes for every request of a location), into the shared
// Options that pool::Pool::group_for finds its group by. A block that failed is tried again on
// its next request (its app folder may exist by then). nginx's configuration message (after each
// configuration cycle) replaces the server-wide settings and the list of configured apps.
//
// After a reload, nginx's old workers may still send a request or two with the blocks of the
// cycle before. Such a block, for an app the latest configuration also has, is served with the
// latest settings: an old worker must not switch (and so restart) the app back to its old ones.
#pragma once

#include "config/module_configuration.hpp"
#include "config/options.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

namespace passenger::server {

// (server-wide Options, settings object of config::parse_settings_block) → the app's Options, or
// why not. cli/ provides it (module_app_options), so that the rules of `passenger start` apply.
using AppOptionsParser = std::function<std::variant<config::Options, std::string>(
    const config::Options& server_wide, const nlohmann::json& settings)>;

class IntegrationApps {
  public:
    IntegrationApps(const config::Options& server_wide, AppOptionsParser parser)
        : server_wide_(server_wide), parser_(std::move(parser)) {}

    struct App {
        std::shared_ptr<const config::Options> options;  // null when `error` says why
        std::string error;
    };
    App app_for(const std::string& settings_block);

    // A configuration cycle of nginx: its http{} settings become the server-wide ones, every
    // block is parsed anew with them (what an earlier cycle parsed is forgotten), and the apps
    // that are usable are returned (the others are logged).
    std::vector<App> configure(const config::ModuleConfiguration& configuration);
    // The main loop's (it configures).
    const config::Options& server_wide() const { return server_wide_; }

  private:
    config::Options server_wide_;
    AppOptionsParser parser_;
    App parse(const std::string& settings_block) const;
    App app_for_locked(const std::string& settings_block);

    // Every loop asks app_for(); the main loop configures.
    std::mutex mutex_;
    std::unordered_map<std::string, App> apps_;
    // The latest configuration's apps by pool group key; empty before the first configuration.
    std::unordered_map<std::string, App> configured_;
};

}  // namespace passenger::server

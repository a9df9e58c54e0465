#include "server/integration_apps.hpp"

#include "common/log.hpp"
#include "config/module_settings.hpp"
#include "pool/app_settings.hpp"

namespace passenger::server {

IntegrationApps::App IntegrationApps::app_for(const std::string& settings_block) {
    std::lock_guard lock(mutex_);
    return app_for_locked(settings_block);
}

IntegrationApps::App IntegrationApps::app_for_locked(const std::string& settings_block) {
    auto found = apps_.find(settings_block);
    if (found != apps_.end()) return found->second;
    App app = parse(settings_block);
    if (!app.error.empty()) {
        log::error("nginx settings refused: {}", app.error);
        return app;
    }
    // Not a block of the latest configuration (configure() parsed all of those): a worker of an
    // earlier cycle sent it. The app's current settings win if it is still configured.
    if (auto current = configured_.find(pool::group_key(*app.options));
        current != configured_.end()) {
        log::debug(
            "A request with the settings of an earlier nginx configuration for {}: "
            "served with the current ones",
            current->first);
        app = current->second;
    }
    return apps_.emplace(settings_block, std::move(app)).first->second;
}

IntegrationApps::App IntegrationApps::parse(const std::string& settings_block) const {
    App app;
    auto settings = config::parse_settings_block(settings_block);
    if (auto* reason = std::get_if<std::string>(&settings)) {
        app.error = "malformed settings block: " + *reason;
    } else {
        auto options = parser_(server_wide_, std::get<nlohmann::json>(settings));
        if (auto* reason = std::get_if<std::string>(&options))
            app.error = *reason;
        else
            app.options = std::make_shared<const config::Options>(
                std::move(std::get<config::Options>(options)));
    }
    return app;
}

std::vector<IntegrationApps::App> IntegrationApps::configure(
    const config::ModuleConfiguration& configuration) {
    std::lock_guard lock(mutex_);
    if (configuration.log_level) server_wide_.log_level = *configuration.log_level;
    if (configuration.max_pool_size) server_wide_.max_pool_size = *configuration.max_pool_size;
    if (configuration.pool_idle_time)
        server_wide_.pool_idle_time_seconds = *configuration.pool_idle_time;
    apps_.clear();
    configured_.clear();
    std::vector<App> apps;
    for (const std::string& block : configuration.app_blocks) {
        App app = app_for_locked(block);
        if (!app.options) continue;
        configured_.emplace(pool::group_key(*app.options), app);
        apps.push_back(std::move(app));
    }
    return apps;
}

}  // namespace passenger::server

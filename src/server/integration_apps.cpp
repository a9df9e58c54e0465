#include "server/integration_apps.hpp"

#include "common/log.hpp"
#include "config/module_settings.hpp"

namespace passenger::server {

IntegrationApps::App IntegrationApps::app_for(const std::string& settings_block) {
    auto found = apps_.find(settings_block);
    if (found != apps_.end()) return found->second;
    App app;
    auto settings = config::parse_settings_block(settings_block);
    if (auto* reason = std::get_if<std::string>(&settings)) {
        app.error = "malformed settings block: " + *reason;
    } else {
        auto options = parser_(std::get<nlohmann::json>(settings));
        if (auto* reason = std::get_if<std::string>(&options))
            app.error = *reason;
        else
            app.options = std::make_shared<const config::Options>(
                std::move(std::get<config::Options>(options)));
    }
    if (!app.error.empty()) {
        log::error("nginx settings refused: {}", app.error);
        return app;
    }
    return apps_.emplace(settings_block, std::move(app)).first->second;
}

}  // namespace passenger::server

#include "server/host_apps.hpp"

#include <cctype>

namespace passenger::server {
namespace {

HostApp make_app(std::shared_ptr<const config::Options> options, size_t loops) {
    HostApp app{std::move(options), {}};
    for (size_t i = 0; i < loops; ++i) {
        app.static_files_by_loop.push_back(
            std::make_unique<static_files::StaticFiles>(app.options->app_root + "/public"));
    }
    return app;
}

}  // namespace

std::string host_name_of(std::string_view host_header) {
    std::string_view name = host_header;
    const size_t colon = name.rfind(':');
    if (colon != std::string_view::npos && name.find(']', colon) == std::string_view::npos)
        name = name.substr(0, colon);
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower;
}

HostApps::HostApps(std::shared_ptr<const config::Options> main, size_t loops)
    : main_(make_app(main, loops)) {
    for (const auto& [host, dir] : main->operations.host_apps) {
        auto options = std::make_shared<config::Options>(*main);
        options->app_root = dir;
        options->operations.host_apps.clear();
        by_host_.emplace(host, make_app(std::move(options), loops));
    }
}

const HostApp& HostApps::for_request(const http::MessageHead& head) const {
    if (by_host_.empty()) return main_;  // the common case: no lookup at all
    const std::string* host = head.find("host");
    if (host == nullptr) return main_;
    auto found = by_host_.find(host_name_of(*host));
    return found == by_host_.end() ? main_ : found->second;
}

std::vector<const HostApp*> HostApps::all() const {
    std::vector<const HostApp*> apps = {&main_};
    for (const auto& [host, app] : by_host_) apps.push_back(&app);
    return apps;
}

}  // namespace passenger::server

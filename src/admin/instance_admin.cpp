#include "admin/instance_admin.hpp"

#include "admin/pool_view.hpp"
#include "common/log.hpp"
#include "pool/pool.hpp"

#include <pwd.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

namespace passenger::admin {
namespace {

std::string user_name(uid_t uid) {
    if (passwd* entry = ::getpwuid(uid)) return entry->pw_name;
    return std::to_string(uid);
}

// The instance belongs to the watchdog (our parent), so it outlives core restarts.
InstanceProperties properties_of(const config::Options& options) {
    InstanceProperties properties;
    properties.version = PASSENGER_VERSION;
    properties.watchdog_pid = ::getppid();
    properties.watchdog_start_ticks = process_start_ticks(properties.watchdog_pid).value_or(0);
    properties.core_pid = ::getpid();
    properties.uid = ::geteuid();
    properties.user = user_name(properties.uid);
    properties.address = options.address;
    properties.port = options.port;
    properties.app_roots = {options.app_root};
    for (const auto& [host, dir] : options.operations.host_apps)
        properties.app_roots.push_back(dir);
    properties.log_file = options.log_file;
    properties.pid_file = options.pid_file;
    properties.integration_mode = options.integration_mode;
    return properties;
}

}  // namespace

InstanceAdmin::InstanceAdmin(asio::io_context& io, const config::Options& options, pool::Pool& pool,
                             const RequestRegistry& requests)
    : options_(options), pool_(pool), requests_(requests), server_(io, *this) {}

InstanceAdmin::~InstanceAdmin() {
    stop();
}

std::string InstanceAdmin::start() {
    std::string registry = registry_dir(options_.instance_registry_dir);
    auto registered = register_instance(registry, properties_of(options_));
    if (auto* error = std::get_if<std::string>(&registered)) {
        log::error("passenger-status & co will not see this server: {}", *error);
        return *error;
    }
    instance_ = std::get<Instance>(std::move(registered));
    if (std::string error = server_.listen(instance_->admin_socket()); !error.empty()) {
        log::error("passenger-status & co will not see this server: {}", error);
        remove_instance(instance_->dir);
        instance_.reset();
        return error;
    }
    log::info("Registered as instance {} (admin socket {})", instance_->properties.name,
              instance_->admin_socket());
    return {};
}

void InstanceAdmin::stop() {
    server_.stop();
    if (instance_) {
        remove_instance(instance_->dir);
        instance_.reset();
    }
}

uid_t InstanceAdmin::owner_uid() const {
    return ::geteuid();
}

nlohmann::json InstanceAdmin::instance() const {
    if (!instance_) return nlohmann::json::object();
    nlohmann::json json = instance_->properties;
    json["dir"] = instance_->dir;
    return json;
}

PoolSnapshot InstanceAdmin::pool() const {
    PoolSnapshot snapshot;
    snapshot.version = PASSENGER_VERSION;
    snapshot.instance = instance_ ? instance_->properties.name : "";
    snapshot.max_pool_size = pool_.max_pool_size();
    snapshot.requests_total = requests_.total();
    snapshot.requests_in_flight = requests_.in_flight().size();
    for (ClientProtocol protocol : kClientProtocols)
        snapshot.protocols.push_back({std::string(protocol_label(protocol)),
                                      std::string(scheme_label(protocol)),
                                      requests_.connections(protocol), requests_.total(protocol)});
    snapshot.groups = take_snapshots(pool_);
    return snapshot;
}

nlohmann::json InstanceAdmin::requests() const {
    return requests_json(requests_.in_flight(), std::chrono::steady_clock::now());
}

bool InstanceAdmin::restart_app(const std::string& app_root) {
    return restart_app_in(pool_, app_root);
}

}  // namespace passenger::admin

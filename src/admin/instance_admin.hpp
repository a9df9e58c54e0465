// The core's side of inspection and management: registers the instance in the registry, serves
// the admin API on the entry's socket, and answers it from the pool and the request registry.
// `start()` once the core serves, `stop()` at the end of a clean shutdown (removes the entry). If
// the core dies instead, the watchdog's next core takes the entry over (same name).
#pragma once

#include "admin/admin_server.hpp"
#include "admin/instance_registry.hpp"
#include "admin/request_registry.hpp"
#include "admin/tls_status.hpp"
#include "config/options.hpp"

#include <asio/io_context.hpp>

#include <optional>

namespace passenger::pool {
class Pool;
}

namespace passenger::admin {

class InstanceAdmin final : public AdminBackend {
  public:
    InstanceAdmin(asio::io_context& io, const config::Options& options, pool::Pool& pool,
                  const RequestRegistry& requests);
    InstanceAdmin(const InstanceAdmin&) = delete;
    InstanceAdmin& operator=(const InstanceAdmin&) = delete;
    ~InstanceAdmin() override;

    // Registers the instance and listens on its admin socket. A failure is logged (the server
    // keeps serving, without inspection) and returned.
    std::string start();
    void stop();

    const std::optional<Instance>& registration() const { return instance_; }
    // --ssl: kept up to date by the core's credentials watch.
    TlsStatus& tls_status() { return tls_status_; }

    // AdminBackend
    uid_t owner_uid() const override;
    nlohmann::json instance() const override;
    PoolSnapshot pool() const override;
    nlohmann::json requests() const override;
    bool restart_app(const std::string& app_root) override;
    nlohmann::json tls() const override { return tls_status_; }

  private:
    const config::Options& options_;
    pool::Pool& pool_;
    const RequestRegistry& requests_;
    AdminServer server_;
    std::optional<Instance> instance_;
    TlsStatus tls_status_;
};

}  // namespace passenger::admin

// The admin API's endpoints, independent of the socket: a parsed request in, a response out.
//
//   GET  /                  the list of endpoints
//   GET  /instance          the instance's registry properties
//   GET  /pool              the pool (admin::PoolSnapshot as JSON)
//   GET  /requests          {"requests": [...]}: the requests in flight
//   GET  /metrics           Prometheus text
//   GET  /tls               --ssl: serving, the certificate's serial, the latest reload's outcome
//   POST /pool/restart_app  body {"app_root": "/path"}: restarts that app (rolling when so
//                           configured); answers {"restarted": ["/path"]}
//
// Every error is JSON, {"error": "..."}, with the fitting status (400, 403, 404, 405, 413, 431).
#pragma once

#include "admin/access_policy.hpp"
#include "admin/pool_snapshot.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <string_view>

namespace passenger::admin {

// What the endpoints read and change; the core implements it over its pool (InstanceAdmin).
class AdminBackend {
  public:
    virtual ~AdminBackend() = default;
    virtual uid_t owner_uid() const = 0;
    virtual nlohmann::json instance() const = 0;
    virtual PoolSnapshot pool() const = 0;
    virtual nlohmann::json requests() const = 0;  // a JSON array
    // Restarts the app whose root is `app_root`; false when there is no such app.
    virtual bool restart_app(const std::string& app_root) = 0;
    // admin::TlsStatus as JSON; {"serving": false} without --ssl.
    virtual nlohmann::json tls() const { return {{"serving", false}}; }
};

struct AdminRequest {
    std::string method;
    std::string target;
    std::string body;
    uid_t peer_uid = 0;
};

struct AdminResponse {
    int status = 200;
    std::string content_type = "application/json";
    std::string body;
};

inline constexpr size_t kMaxAdminRequestBody = 64 * 1024;

AdminResponse json_error(int status, std::string_view message);

AdminResponse handle_admin_request(AdminBackend& backend, const AdminRequest& request);

}  // namespace passenger::admin

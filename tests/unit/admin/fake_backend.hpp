// An AdminBackend with fixed answers, for tests of the routes and the socket server.
#pragma once

#include "admin/admin_routes.hpp"

#include <string>
#include <vector>

namespace passenger::admin::testing {

class FakeBackend : public AdminBackend {
  public:
    uid_t owner = 1000;
    std::vector<std::string> restarted;

    uid_t owner_uid() const override { return owner; }
    nlohmann::json instance() const override { return {{"name", "fake"}}; }
    PoolSnapshot pool() const override {
        PoolSnapshot pool;
        pool.version = "9.9.9";
        pool.max_pool_size = 6;
        pool.requests_total = 7;
        GroupSnapshot group;
        group.app_root = "/srv/app";
        group.queue_length = 2;
        ProcessSnapshot process;
        process.pid = 101;
        process.state = "ready";
        process.sessions = 1;
        process.private_memory_kb = 2048;
        group.processes.push_back(process);
        pool.groups.push_back(group);
        return pool;
    }
    nlohmann::json requests() const override {
        return nlohmann::json::array({{{"method", "GET"}, {"uri", "/slow"}}});
    }
    bool restart_app(const std::string& app_root) override {
        if (app_root != "/srv/app") return false;
        restarted.push_back(app_root);
        return true;
    }
};

}  // namespace passenger::admin::testing

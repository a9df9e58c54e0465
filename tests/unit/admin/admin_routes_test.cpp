#include "admin/admin_routes.hpp"
#include "admin/tls_status.hpp"

#include "fake_backend.hpp"

#include <gtest/gtest.h>

namespace passenger::admin {
namespace {

using testing::FakeBackend;

class AdminRoutes : public ::testing::Test {
  protected:
    AdminResponse call(std::string method, std::string target, std::string body = "",
                       uid_t peer = 1000) {
        return handle_admin_request(backend_,
                                    {std::move(method), std::move(target), std::move(body), peer});
    }
    static nlohmann::json json_of(const AdminResponse& response) {
        return nlohmann::json::parse(response.body);
    }
    FakeBackend backend_;
};

TEST_F(AdminRoutes, PoolIsTheSnapshotAsJson) {
    AdminResponse response = call("GET", "/pool");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, "application/json");
    PoolSnapshot pool = json_of(response).get<PoolSnapshot>();
    EXPECT_EQ(pool.version, "9.9.9");
    ASSERT_EQ(pool.groups.size(), 1u);
    EXPECT_EQ(pool.groups[0].processes[0].pid, 101);
    EXPECT_EQ(json_of(response)["process_count"], 1);
}

TEST_F(AdminRoutes, QueryStringsAndTrailingSlashesDoNotMatter) {
    EXPECT_EQ(call("GET", "/pool/?x=1").status, 200);
    EXPECT_EQ(call("GET", "/instance?").status, 200);
}

TEST_F(AdminRoutes, RequestsAreWrappedInAnObject) {
    nlohmann::json json = json_of(call("GET", "/requests"));
    ASSERT_TRUE(json["requests"].is_array());
    EXPECT_EQ(json["requests"][0]["uri"], "/slow");
}

TEST_F(AdminRoutes, MetricsArePrometheusText) {
    AdminResponse response = call("GET", "/metrics");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(response.content_type, "text/plain; version=0.0.4; charset=utf-8");
    EXPECT_NE(response.body.find("passenger_requests_total 7\n"), std::string::npos);
}

TEST_F(AdminRoutes, IndexListsEveryEndpoint) {
    nlohmann::json json = json_of(call("GET", "/"));
    EXPECT_EQ(json["endpoints"].size(), 7u);
}

TEST_F(AdminRoutes, TlsSaysWhetherHttpsIsServed) {
    AdminResponse response = call("GET", "/tls");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(json_of(response), nlohmann::json({{"serving", false}}));
    TlsStatus status{.serving = true,
                     .certificate_serial = "ABC1",
                     .reloads = 2,
                     .last_reload_error = "--ssl-certificate-key /k: not a PEM private key"};
    nlohmann::json json = status;
    EXPECT_EQ(json["certificate_serial"], "ABC1");
    EXPECT_EQ(json["reloads"], 2);
    EXPECT_EQ(json["last_reload_error"], "--ssl-certificate-key /k: not a PEM private key");
}

TEST_F(AdminRoutes, RestartNamesTheApp) {
    AdminResponse response = call("POST", "/pool/restart_app", R"({"app_root": "/srv/app/"})");
    EXPECT_EQ(response.status, 200);
    EXPECT_EQ(json_of(response)["restarted"][0], "/srv/app");
    EXPECT_EQ(backend_.restarted, std::vector<std::string>{"/srv/app"});
}

TEST_F(AdminRoutes, RestartOfAnUnknownAppIs404) {
    AdminResponse response = call("POST", "/pool/restart_app", R"({"app_root": "/elsewhere"})");
    EXPECT_EQ(response.status, 404);
    EXPECT_EQ(json_of(response)["error"], "no application with root /elsewhere");
}

TEST_F(AdminRoutes, MalformedRestartBodiesAre400WithAReason) {
    for (const char* body : {"", "{", "[]", "42", R"({"app_root": 5})", R"({"app_root": ""})",
                             R"({"other": "/srv/app"})", "\xff\xfe"}) {
        AdminResponse response = call("POST", "/pool/restart_app", body);
        EXPECT_EQ(response.status, 400) << body;
        EXPECT_TRUE(json_of(response)["error"].is_string()) << body;
    }
    EXPECT_TRUE(backend_.restarted.empty());
}

TEST_F(AdminRoutes, UnknownPathIs404AndWrongMethodIs405) {
    EXPECT_EQ(call("GET", "/nope").status, 404);
    EXPECT_EQ(call("GET", "").status, 404);
    EXPECT_EQ(call("GET", "*").status, 404);
    AdminResponse wrong = call("DELETE", "/pool");
    EXPECT_EQ(wrong.status, 405);
    EXPECT_EQ(json_of(wrong)["error"], "DELETE is not allowed on /pool; use GET");
    EXPECT_EQ(call("GET", "/pool/restart_app").status, 405);
}

TEST_F(AdminRoutes, InvalidUtf8InAPathStillGivesJson) {
    AdminResponse response = call("GET", "/\xff\xfe");
    EXPECT_EQ(response.status, 404);
    EXPECT_TRUE(json_of(response)["error"].is_string());
}

TEST_F(AdminRoutes, RootAndTheOwnerMayReadAndChange) {
    for (uid_t peer : {uid_t{0}, uid_t{1000}}) {
        EXPECT_EQ(call("GET", "/pool", "", peer).status, 200) << peer;
        EXPECT_EQ(call("POST", "/pool/restart_app", R"({"app_root":"/srv/app"})", peer).status, 200)
            << peer;
    }
}

TEST_F(AdminRoutes, OthersGet403ForEverything) {
    for (const char* target : {"/", "/pool", "/requests", "/metrics", "/instance", "/nope"}) {
        AdminResponse response = call("GET", target, "", 1001);
        EXPECT_EQ(response.status, 403) << target;
        EXPECT_TRUE(json_of(response)["error"].is_string());
    }
    EXPECT_EQ(call("POST", "/pool/restart_app", R"({"app_root":"/srv/app"})", 1001).status, 403);
    EXPECT_TRUE(backend_.restarted.empty());
}

TEST(AccessPolicy, TheRule) {
    EXPECT_TRUE(may_access(0, 1000, AccessKind::read));
    EXPECT_TRUE(may_access(0, 1000, AccessKind::modify));
    EXPECT_TRUE(may_access(1000, 1000, AccessKind::read));
    EXPECT_TRUE(may_access(1000, 1000, AccessKind::modify));
    EXPECT_FALSE(may_access(1001, 1000, AccessKind::read));
    EXPECT_FALSE(may_access(1001, 1000, AccessKind::modify));
    EXPECT_FALSE(may_access(1000, 0, AccessKind::read));
}

}  // namespace
}  // namespace passenger::admin

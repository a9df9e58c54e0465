#include "admin/request_registry.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace passenger::admin {
namespace {

TEST(RequestRegistry, ARecordLivesAsLongAsItsHandle) {
    RequestRegistry registry;
    {
        auto first = registry.track("GET", "/a", "127.0.0.1", "/srv/app");
        auto second = registry.track("POST", "/b", "::1", "/srv/app");
        EXPECT_EQ(registry.in_flight().size(), 2u);
        EXPECT_EQ(first->id, 1u);
        EXPECT_EQ(second->id, 2u);
    }
    EXPECT_TRUE(registry.in_flight().empty());
    EXPECT_EQ(registry.total(), 2u);
}

TEST(RequestRegistry, CountsRequestsAndConnectionsByProtocol) {
    RequestRegistry registry;
    registry.open_connection(ClientProtocol::http1);
    registry.open_connection(ClientProtocol::h2);
    registry.open_connection(ClientProtocol::h2);
    registry.close_connection(ClientProtocol::h2);
    auto plain = registry.track("GET", "/", "c", "/srv/app");
    auto stream = registry.track("GET", "/", "c", "/srv/app", ClientProtocol::h2);
    EXPECT_EQ(registry.connections(ClientProtocol::http1), 1u);
    EXPECT_EQ(registry.connections(ClientProtocol::https1), 0u);
    EXPECT_EQ(registry.connections(ClientProtocol::h2), 1u);
    EXPECT_EQ(registry.total(ClientProtocol::http1), 1u);
    EXPECT_EQ(registry.total(ClientProtocol::h2), 1u);
    EXPECT_EQ(registry.total(), 2u);
    nlohmann::json json = requests_json(registry.in_flight(), std::chrono::steady_clock::now());
    EXPECT_EQ(json[1]["scheme"], "https");
    EXPECT_EQ(json[1]["protocol"], "h2");
    EXPECT_EQ(json[0]["scheme"], "http");
    EXPECT_EQ(json[0]["protocol"], "http/1.1");
}

TEST(RequestRegistry, MovedHandlesRemoveOnce) {
    RequestRegistry registry;
    auto handle = registry.track("GET", "/", "c", "/srv/app");
    RequestRegistry::Handle moved = std::move(handle);
    EXPECT_FALSE(handle);
    EXPECT_TRUE(moved);
    EXPECT_EQ(registry.in_flight().size(), 1u);
    moved.reset();
    moved.reset();
    EXPECT_TRUE(registry.in_flight().empty());
}

TEST(RequestRegistry, StateFollowsTheRequest) {
    RequestRegistry registry;
    auto handle = registry.track("GET", "/x", "c", "/srv/app");
    EXPECT_EQ(describe_state(*handle), "waiting for a process");
    handle->pid = 1234;
    EXPECT_EQ(describe_state(*handle), "in app");
    handle->state = RequestState::sending_response;
    EXPECT_EQ(describe_state(*handle), "sending response");
    handle->state = RequestState::reading_body;
    EXPECT_EQ(describe_state(*handle), "reading request body");
    handle->state = RequestState::serving_static_file;
    EXPECT_EQ(describe_state(*handle), "serving static file");
}

TEST(RequestRegistry, JsonHasWhatPassengerStatusShows) {
    RequestRegistry registry;
    auto waiting = registry.track("GET", "/slow?ms=1", "10.0.0.1", "/srv/app");
    auto running = registry.track("PUT", "/up", "10.0.0.2", "/srv/app");
    running->pid = 77;
    nlohmann::json json =
        requests_json(registry.in_flight(), waiting->started + std::chrono::seconds(2));
    ASSERT_EQ(json.size(), 2u);
    EXPECT_EQ(json[0]["method"], "GET");
    EXPECT_EQ(json[0]["uri"], "/slow?ms=1");
    EXPECT_EQ(json[0]["client"], "10.0.0.1");
    EXPECT_TRUE(json[0]["process"].is_null());
    EXPECT_EQ(json[0]["state"], "waiting for a process");
    EXPECT_NEAR(json[0]["age_seconds"].get<double>(), 2.0, 0.001);
    EXPECT_EQ(json[1]["process"], 77);
    EXPECT_EQ(json[1]["state"], "in app");
    EXPECT_EQ(json[1]["app_root"], "/srv/app");
}

}  // namespace
}  // namespace passenger::admin

#include "admin/request_registry.hpp"

#include <nlohmann/json.hpp>

#include <utility>

namespace passenger::admin {

std::string_view protocol_label(ClientProtocol protocol) {
    return protocol == ClientProtocol::h2 ? "h2" : "http/1.1";
}

std::string_view scheme_label(ClientProtocol protocol) {
    return protocol == ClientProtocol::http1 ? "http" : "https";
}

std::string_view describe_state(const RequestRecord& record) {
    switch (record.state) {
        case RequestState::serving_static_file:
            return "serving static file";
        case RequestState::reading_body:
            return "reading request body";
        case RequestState::for_app:
            return record.pid > 0 ? "in app" : "waiting for a process";
        case RequestState::sending_response:
            return "sending response";
    }
    return "unknown";
}

RequestRegistry::Handle::Handle(Handle&& other) noexcept
    : registry_(std::exchange(other.registry_, nullptr)), record_(other.record_) {}

RequestRegistry::Handle& RequestRegistry::Handle::operator=(Handle&& other) noexcept {
    if (this != &other) {
        reset();
        registry_ = std::exchange(other.registry_, nullptr);
        record_ = other.record_;
    }
    return *this;
}

void RequestRegistry::Handle::reset() {
    if (registry_ == nullptr) return;
    registry_->records_.erase(record_);
    registry_ = nullptr;
}

RequestRegistry::Handle RequestRegistry::track(std::string method, std::string uri,
                                               std::string client, std::string app_root,
                                               ClientProtocol protocol) {
    ++totals_[index(protocol)];
    records_.push_back({
        .id = next_id_++,
        .method = std::move(method),
        .uri = std::move(uri),
        .client = std::move(client),
        .app_root = std::move(app_root),
        .state = RequestState::for_app,
        .pid = 0,
        .started = std::chrono::steady_clock::now(),
        .protocol = protocol,
    });
    return Handle(this, std::prev(records_.end()));
}

nlohmann::json requests_json(const RequestRegistry::Records& records,
                             std::chrono::steady_clock::time_point now) {
    nlohmann::json result = nlohmann::json::array();
    for (const RequestRecord& record : records) {
        result.push_back({
            {"id", record.id},
            {"method", record.method},
            {"uri", record.uri},
            {"client", record.client},
            {"app_root", record.app_root},
            {"state", describe_state(record)},
            {"process", record.pid > 0 ? nlohmann::json(record.pid) : nlohmann::json(nullptr)},
            {"age_seconds", std::chrono::duration<double>(now - record.started).count()},
            {"scheme", scheme_label(record.protocol)},
            {"protocol", protocol_label(record.protocol)},
        });
    }
    return result;
}

}  // namespace passenger::admin

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
    std::lock_guard lock(registry_->mutex_);
    // Kept for the next request (its strings' storage too), up to a few per loop's worth.
    if (registry_->spares_.size() < max_spare_records) {
        registry_->spares_.splice(registry_->spares_.end(), registry_->records_, record_);
    } else {
        registry_->records_.erase(record_);
    }
    registry_ = nullptr;
}

RequestRegistry::Handle RequestRegistry::track(std::string_view method, std::string_view uri,
                                               std::string_view client, std::string_view app_root,
                                               ClientProtocol protocol) {
    ++totals_[index(protocol)];
    // Filled in before it is listed: the admin socket may read it from then on. A spare
    // record's strings are assigned over, so a request usually allocates nothing here.
    Records record;
    {
        std::lock_guard lock(mutex_);
        if (!spares_.empty()) record.splice(record.end(), spares_, spares_.begin());
    }
    if (record.empty()) record.emplace_back();
    RequestRecord& fresh = record.front();
    fresh.method = method;
    fresh.uri = uri;
    fresh.client = client;
    fresh.app_root = app_root;
    fresh.state = RequestState::for_app;
    fresh.pid = 0;
    fresh.started = std::chrono::steady_clock::now();
    fresh.protocol = protocol;
    std::lock_guard lock(mutex_);
    fresh.id = next_id_++;
    records_.splice(records_.end(), record);
    return Handle(this, std::prev(records_.end()));
}

size_t RequestRegistry::in_flight_count() const {
    std::lock_guard lock(mutex_);
    return records_.size();
}

uint64_t RequestRegistry::total() const {
    std::lock_guard lock(mutex_);
    return next_id_ - 1;
}

nlohmann::json RequestRegistry::json(std::chrono::steady_clock::time_point now) const {
    std::lock_guard lock(mutex_);
    return requests_json(records_, now);
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
            {"process",
             record.pid > 0 ? nlohmann::json(record.pid.load()) : nlohmann::json(nullptr)},
            {"age_seconds", std::chrono::duration<double>(now - record.started).count()},
            {"scheme", scheme_label(record.protocol)},
            {"protocol", protocol_label(record.protocol)},
        });
    }
    return result;
}

}  // namespace passenger::admin

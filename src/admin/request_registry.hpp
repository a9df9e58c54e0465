// The requests the front end is answering right now, for `passenger-status --show=requests`.
// The connection that reads a request head records it here (`track`) and updates its state; the
// record disappears when the returned handle is destroyed. Every event loop tracks its requests
// here and the admin socket reads them: the list is locked, a record's state and pid are atomic.
#pragma once

#include <sys/types.h>

#include <nlohmann/json_fwd.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>

namespace passenger::admin {

enum class RequestState {
    serving_static_file,  // answered from public/
    reading_body,         // the front end buffers the request body before involving the app
    for_app,              // waiting for a process until `pid` is set, then in that process
    sending_response,     // the app is done; the rest of the response goes to the client
};

struct RequestRecord;
// "serving static file", "reading request body", "waiting for a process", "in app" or
// "sending response".
std::string_view describe_state(const RequestRecord& record);

struct RequestRecord {
    uint64_t id = 0;
    std::string method;
    std::string uri;
    std::string client;  // the client's address
    std::string app_root;
    // Written by the request's loop, read by the admin socket's.
    std::atomic<RequestState> state = RequestState::for_app;
    std::atomic<pid_t> pid = 0;  // the app process handling it; 0 while none (set by the proxy)
    std::chrono::steady_clock::time_point started;
};

class RequestRegistry {
  public:
    using Records = std::list<RequestRecord>;

    // Removes its record when destroyed; movable, not copyable.
    class Handle {
      public:
        Handle() = default;
        Handle(RequestRegistry* registry, Records::iterator record)
            : registry_(registry), record_(record) {}
        Handle(Handle&& other) noexcept;
        Handle& operator=(Handle&& other) noexcept;
        Handle(const Handle&) = delete;
        Handle& operator=(const Handle&) = delete;
        ~Handle() { reset(); }

        RequestRecord* operator->() const { return &*record_; }
        RequestRecord& operator*() const { return *record_; }
        explicit operator bool() const { return registry_ != nullptr; }
        void reset();

      private:
        RequestRegistry* registry_ = nullptr;
        Records::iterator record_;
    };

    RequestRegistry() = default;
    RequestRegistry(const RequestRegistry&) = delete;
    RequestRegistry& operator=(const RequestRegistry&) = delete;

    Handle track(std::string method, std::string uri, std::string client, std::string app_root);

    // Single-threaded callers (tests) only.
    const Records& in_flight() const { return records_; }
    size_t in_flight_count() const;
    uint64_t total() const;  // requests tracked since the start
    // requests_json() of the records in flight.
    nlohmann::json json(std::chrono::steady_clock::time_point now) const;

  private:
    mutable std::mutex mutex_;
    Records records_;
    uint64_t next_id_ = 1;
};

// The requests in flight as a JSON array, oldest first: id, method, uri, client, app_root,
// state, process (pid or null), age_seconds.
nlohmann::json requests_json(const RequestRegistry::Records& records,
                             std::chrono::steady_clock::time_point now);

}  // namespace passenger::admin

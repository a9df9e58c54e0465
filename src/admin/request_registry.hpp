// The requests the front end is answering right now, for `passenger-status --show=requests`.
// The connection that reads a request head records it here (`track`) and updates its state; the
// record disappears when the returned handle is destroyed. Also the client connections open and
// the requests received, by protocol (HTTP/1.x, HTTPS, h2), for passenger-status and the
// metrics. Every event loop tracks its requests here and the admin socket reads them: the list
// is locked, a record's state and pid and the counts are atomic.
#pragma once

#include <sys/types.h>

#include <nlohmann/json_fwd.hpp>

#include <array>
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

// How a client spoke to the front end.
enum class ClientProtocol : uint8_t { http1, https1, h2 };
inline constexpr std::array kClientProtocols = {ClientProtocol::http1, ClientProtocol::https1,
                                                ClientProtocol::h2};
// "http/1.1" (any HTTP/1.x) or "h2".
std::string_view protocol_label(ClientProtocol protocol);
// "http" or "https".
std::string_view scheme_label(ClientProtocol protocol);

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
    ClientProtocol protocol = ClientProtocol::http1;
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

    Handle track(std::string_view method, std::string_view uri, std::string_view client,
                 std::string_view app_root, ClientProtocol protocol = ClientProtocol::http1);

    // Single-threaded callers (tests) only.
    const Records& in_flight() const { return records_; }
    size_t in_flight_count() const;
    uint64_t total() const;  // requests tracked since the start
    uint64_t total(ClientProtocol protocol) const { return totals_[index(protocol)]; }
    // requests_json() of the records in flight.
    nlohmann::json json(std::chrono::steady_clock::time_point now) const;

    // Client connections open now: HTTP/1.x ones (keep-alive and parked included) and TLS
    // connections that chose h2 (not their streams).
    void open_connection(ClientProtocol protocol) { ++connections_[index(protocol)]; }
    void close_connection(ClientProtocol protocol) { --connections_[index(protocol)]; }
    uint64_t connections(ClientProtocol protocol) const { return connections_[index(protocol)]; }

  private:
    static size_t index(ClientProtocol protocol) { return static_cast<size_t>(protocol); }

    // Records of answered requests, reused by the next ones (no allocation per request).
    static constexpr size_t max_spare_records = 64;

    mutable std::mutex mutex_;
    Records records_;
    Records spares_;
    uint64_t next_id_ = 1;
    std::array<std::atomic<uint64_t>, kClientProtocols.size()> totals_{};
    std::array<std::atomic<uint64_t>, kClientProtocols.size()> connections_{};
};

// The requests in flight as a JSON array, oldest first: id, method, uri, client, app_root,
// state, process (pid or null), age_seconds, scheme, protocol.
nlohmann::json requests_json(const RequestRegistry::Records& records,
                             std::chrono::steady_clock::time_point now);

}  // namespace passenger::admin

// What the front end answered, per app, since the core started: responses by status class, a
// request-duration histogram, body bytes in and out. Recorded by server/ when a request ends,
// exposed on --metrics-address (Prometheus text). Single-threaded, like the core.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace passenger::admin {

// Upper bounds of the duration histogram's buckets, in seconds (Prometheus' defaults).
inline constexpr std::array<double, 11> kDurationBuckets = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                            0.5,   1.0,  2.5,   5.0,  10.0};

struct AppTraffic {
    std::array<uint64_t, 5> responses_by_class{};  // 1xx .. 5xx
    // Requests per bucket (not cumulative); the last one counts those over the largest bound.
    std::array<uint64_t, kDurationBuckets.size() + 1> duration_buckets{};
    double duration_seconds_sum = 0;
    uint64_t requests = 0;
    uint64_t request_body_bytes = 0;
    uint64_t response_bytes = 0;
};

class TrafficStats {
  public:
    // `status` 0 (nothing was sent: the client left) counts in the histogram and bytes only.
    void record(std::string_view app_root, int status, double seconds, uint64_t bytes_in,
                uint64_t bytes_out);
    const std::map<std::string, AppTraffic, std::less<>>& apps() const { return apps_; }

  private:
    std::map<std::string, AppTraffic, std::less<>> apps_;
};

// The families passenger_responses_total{app_root,status_class}, passenger_request_duration_
// seconds (histogram), passenger_request_body_bytes_total and passenger_response_bytes_total.
std::string prometheus_traffic(const TrafficStats& stats);

}  // namespace passenger::admin

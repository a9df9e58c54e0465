#include "admin/traffic_stats.hpp"

#include "admin/metrics.hpp"

#include <fmt/format.h>

#include <iterator>

namespace passenger::admin {

void TrafficStats::record(std::string_view app_root, int status, double seconds, uint64_t bytes_in,
                          uint64_t bytes_out) {
    auto found = apps_.find(app_root);  // no allocation per request
    if (found == apps_.end()) found = apps_.emplace(std::string(app_root), AppTraffic{}).first;
    AppTraffic& app = found->second;
    if (status >= 100 && status < 600)
        ++app.responses_by_class[static_cast<size_t>(status / 100 - 1)];
    size_t bucket = 0;
    while (bucket < kDurationBuckets.size() && seconds > kDurationBuckets[bucket]) ++bucket;
    ++app.duration_buckets[bucket];
    app.duration_seconds_sum += seconds;
    ++app.requests;
    app.request_body_bytes += bytes_in;
    app.response_bytes += bytes_out;
}

std::string prometheus_traffic(const TrafficStats& stats) {
    std::string out;
    auto to = std::back_inserter(out);
    auto family = [&](std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(to, "# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    family("passenger_responses_total", "counter",
           "Responses to the app's requests (static files and error pages included), by status "
           "class.");
    for (const auto& [root, app] : stats.apps()) {
        for (size_t i = 0; i < app.responses_by_class.size(); ++i)
            fmt::format_to(
                to, "passenger_responses_total{{app_root=\"{}\",status_class=\"{}xx\"}} {}\n",
                escape_label_value(root), i + 1, app.responses_by_class[i]);
    }
    family("passenger_request_duration_seconds", "histogram",
           "Time from a request's head to the end of its response.");
    for (const auto& [root, app] : stats.apps()) {
        const std::string label = escape_label_value(root);
        uint64_t cumulative = 0;
        for (size_t i = 0; i < kDurationBuckets.size(); ++i) {
            cumulative += app.duration_buckets[i];
            fmt::format_to(
                to, "passenger_request_duration_seconds_bucket{{app_root=\"{}\",le=\"{}\"}} {}\n",
                label, kDurationBuckets[i], cumulative);
        }
        fmt::format_to(
            to, "passenger_request_duration_seconds_bucket{{app_root=\"{}\",le=\"+Inf\"}} {}\n",
            label, app.requests);
        fmt::format_to(to, "passenger_request_duration_seconds_sum{{app_root=\"{}\"}} {}\n", label,
                       app.duration_seconds_sum);
        fmt::format_to(to, "passenger_request_duration_seconds_count{{app_root=\"{}\"}} {}\n",
                       label, app.requests);
    }
    family("passenger_request_body_bytes_total", "counter", "Request body bytes received.");
    for (const auto& [root, app] : stats.apps())
        fmt::format_to(to, "passenger_request_body_bytes_total{{app_root=\"{}\"}} {}\n",
                       escape_label_value(root), app.request_body_bytes);
    family("passenger_response_bytes_total", "counter",
           "Response bytes (heads and bodies) sent to clients.");
    for (const auto& [root, app] : stats.apps())
        fmt::format_to(to, "passenger_response_bytes_total{{app_root=\"{}\"}} {}\n",
                       escape_label_value(root), app.response_bytes);
    return out;
}

}  // namespace passenger::admin

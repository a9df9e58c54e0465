#include "server/request_report.hpp"

namespace passenger::server {
namespace {

std::string_view header_or_empty(const http::MessageHead& head, std::string_view name) {
    const std::string* value = head.find(name);
    return value ? std::string_view(*value) : std::string_view();
}

}  // namespace

AccessLogEntry request_report(const http::MessageHead& head, const admin::RequestRecord& record,
                              const proxy::ForwardOutcome& outcome, const RequestTraffic& traffic) {
    using Clock = proxy::ForwardOutcome::Clock;
    using Seconds = std::chrono::duration<double>;
    // Unset times: no process took the request (a static file, a rejection, a queue timeout).
    const bool got_process = outcome.got_process != Clock::time_point{};
    const bool answered = got_process && outcome.answered != Clock::time_point{};
    return AccessLogEntry{
        .time = traffic.arrived,
        .client = record.client,
        .method = head.method,
        .target = record.uri,
        .http_major = head.http_major,
        .http_minor = head.http_minor,
        .status = outcome.status,
        .bytes_out = traffic.bytes_out + outcome.error_page_bytes,
        .bytes_in = traffic.bytes_in,
        .referer = header_or_empty(head, "referer"),
        .user_agent = header_or_empty(head, "user-agent"),
        .queue_seconds = got_process ? Seconds(outcome.got_process - outcome.asked).count() : 0.0,
        .app_seconds = answered ? Seconds(outcome.answered - outcome.got_process).count() : 0.0,
        .total_seconds = Seconds(Clock::now() - record.started).count(),
        .pid = record.pid,
    };
}

}  // namespace passenger::server

#include "admin/metrics.hpp"

#include <fmt/format.h>

#include <functional>
#include <iterator>

namespace passenger::admin {
namespace {

class MetricsWriter {
  public:
    // One metric family: its HELP and TYPE lines; its samples follow.
    void family(std::string_view name, std::string_view type, std::string_view help) {
        fmt::format_to(std::back_inserter(out_), "# HELP {} {}\n# TYPE {} {}\n", name, help, name,
                       type);
    }
    void sample(std::string_view name, std::string_view labels, double value) {
        if (labels.empty())
            fmt::format_to(std::back_inserter(out_), "{} {}\n", name, value);
        else
            fmt::format_to(std::back_inserter(out_), "{}{{{}}} {}\n", name, labels, value);
    }
    std::string take() { return std::move(out_); }

  private:
    std::string out_;
};

std::string group_labels(const GroupSnapshot& group) {
    return fmt::format("app_root=\"{}\"", escape_label_value(group.app_root));
}

std::string process_labels(const GroupSnapshot& group, const ProcessSnapshot& process) {
    return fmt::format("app_root=\"{}\",pid=\"{}\"", escape_label_value(group.app_root),
                       process.pid);
}

std::string protocol_labels(const ProtocolSnapshot& protocol) {
    return fmt::format("scheme=\"{}\",protocol=\"{}\"", protocol.scheme, protocol.protocol);
}

double as_double(uint64_t value) {
    return static_cast<double>(value);
}

}  // namespace

std::string escape_label_value(std::string_view value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

std::string prometheus_metrics(const PoolSnapshot& pool) {
    MetricsWriter out;
    out.family("passenger_requests_total", "counter",
               "Requests received by the front end since the core started.");
    out.sample("passenger_requests_total", "", as_double(pool.requests_total));
    out.family("passenger_requests_in_flight", "gauge", "Requests being answered right now.");
    out.sample("passenger_requests_in_flight", "", as_double(pool.requests_in_flight));
    out.family("passenger_client_requests_total", "counter",
               "Requests received by the front end, by scheme and protocol (HTTP/1.x or h2).");
    for (const ProtocolSnapshot& protocol : pool.protocols)
        out.sample("passenger_client_requests_total", protocol_labels(protocol),
                   as_double(protocol.requests_total));
    out.family("passenger_client_connections", "gauge",
               "Client connections open now, by scheme and protocol (h2: connections, not "
               "streams).");
    for (const ProtocolSnapshot& protocol : pool.protocols)
        out.sample("passenger_client_connections", protocol_labels(protocol),
                   as_double(protocol.connections));
    out.family("passenger_max_pool_size", "gauge", "The most app processes allowed at once.");
    out.sample("passenger_max_pool_size", "", pool.max_pool_size);
    // No passenger_top_level_queue_length: every request goes straight to its app's queue
    // (passenger_queue_length), so it would be a constant 0.

    using GroupValue = std::function<double(const GroupSnapshot&)>;
    auto per_group = [&](std::string_view name, std::string_view type, std::string_view help,
                         const GroupValue& value) {
        out.family(name, type, help);
        for (const GroupSnapshot& group : pool.groups)
            out.sample(name, group_labels(group), value(group));
    };
    per_group("passenger_processes", "gauge", "App processes (in any state) of the app.",
              [](const GroupSnapshot& g) { return as_double(g.processes.size()); });
    per_group("passenger_processes_spawning", "gauge", "App processes being started.",
              [](const GroupSnapshot& g) { return static_cast<double>(g.spawning); });
    per_group("passenger_queue_length", "gauge", "Requests waiting for a process of the app.",
              [](const GroupSnapshot& g) { return as_double(g.queue_length); });
    per_group("passenger_app_requests_total", "counter", "Requests handed to the app.",
              [](const GroupSnapshot& g) { return as_double(g.requests_total); });
    per_group("passenger_spawns_total", "counter", "App processes started successfully.",
              [](const GroupSnapshot& g) { return as_double(g.spawns_total); });
    per_group("passenger_spawn_failures_total", "counter", "App processes that failed to start.",
              [](const GroupSnapshot& g) { return as_double(g.spawn_failures_total); });
    per_group("passenger_process_crashes_total", "counter", "App processes that exited unasked.",
              [](const GroupSnapshot& g) { return as_double(g.crashes_total); });
    per_group("passenger_restarts_total", "counter",
              "App restarts (restart.txt, passenger-config restart-app).",
              [](const GroupSnapshot& g) { return as_double(g.restarts_total); });

    using ProcessValue = std::function<double(const ProcessSnapshot&)>;
    auto per_process = [&](std::string_view name, std::string_view type, std::string_view help,
                           const ProcessValue& value) {
        out.family(name, type, help);
        for (const GroupSnapshot& group : pool.groups) {
            for (const ProcessSnapshot& process : group.processes)
                out.sample(name, process_labels(group, process), value(process));
        }
    };
    per_process("passenger_process_cpu_percent", "gauge",
                "CPU use of the process and its process group (what it started), percent of one "
                "core over the last sampling interval.",
                [](const ProcessSnapshot& p) { return p.cpu_percent; });
    per_process(
        "passenger_process_private_memory_bytes", "gauge",
        "Private memory of the process and its process group (from /proc/PID/smaps_rollup).",
        [](const ProcessSnapshot& p) { return as_double(p.private_memory_kb * 1024); });
    per_process("passenger_process_sessions", "gauge", "Requests the process is handling now.",
                [](const ProcessSnapshot& p) { return static_cast<double>(p.sessions); });
    per_process("passenger_process_processed_total", "counter", "Requests the process finished.",
                [](const ProcessSnapshot& p) { return as_double(p.processed); });
    per_process("passenger_process_uptime_seconds", "gauge", "Seconds since the process started.",
                [](const ProcessSnapshot& p) { return p.uptime_seconds; });
    return out.take();
}

}  // namespace passenger::admin

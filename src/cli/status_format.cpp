#include "cli/status_format.hpp"

#include <fmt/format.h>

#include <cmath>
#include <iterator>

namespace passenger::cli {

std::string format_duration(double seconds) {
    long total = seconds > 0 ? static_cast<long>(seconds) : 0;
    long days = total / 86400, hours = total / 3600 % 24, minutes = total / 60 % 60,
         rest = total % 60;
    if (days > 0) return fmt::format("{}d {}h {}m {}s", days, hours, minutes, rest);
    if (hours > 0) return fmt::format("{}h {}m {}s", hours, minutes, rest);
    if (minutes > 0) return fmt::format("{}m {}s", minutes, rest);
    return fmt::format("{}s", rest);
}

std::string format_local_time(std::time_t when) {
    std::tm local{};
    ::localtime_r(&when, &local);
    char buffer[64];
    std::strftime(buffer, sizeof buffer, "%Y-%m-%d %H:%M:%S %z", &local);
    return buffer;
}

std::string format_megabytes(uint64_t kilobytes) {
    return fmt::format("{:.1f} MB", static_cast<double>(kilobytes) / 1024.0);
}

std::string format_status(const admin::PoolSnapshot& pool, const admin::Instance& instance,
                          std::time_t now) {
    std::string out;
    auto line = [&out]<typename... Args>(fmt::format_string<Args...> format, Args&&... args) {
        fmt::format_to(std::back_inserter(out), format, std::forward<Args>(args)...);
        out += '\n';
    };
    line("Version : {}", pool.version);
    line("Date    : {}", format_local_time(now));
    const std::string& mode = instance.properties.integration_mode;
    if (mode.empty())
        line("Instance: {} (Passenger Standalone, port {})", instance.properties.name,
             instance.properties.port);
    else
        line("Instance: {} (Passenger, {} integration mode)", instance.properties.name,
             mode == "apache2" ? "Apache" : mode);
    line("----------- General information -----------");
    line("Max pool size : {}", pool.max_pool_size);
    line("Processes     : {}", pool.process_count());
    line("Requests in top-level queue : {}", pool.top_level_queue);
    if (!pool.protocols.empty()) {
        // "http", "https" (HTTP/1.x over TLS), "h2": how clients speak to the front end.
        std::string connections, requests;
        for (const admin::ProtocolSnapshot& each : pool.protocols) {
            std::string_view name = each.scheme == "http"   ? "http"
                                    : each.protocol == "h2" ? "h2"
                                                            : "https";
            fmt::format_to(std::back_inserter(connections), "{}{} {}",
                           connections.empty() ? "" : ", ", name, each.connections);
            fmt::format_to(std::back_inserter(requests), "{}{} {}", requests.empty() ? "" : ", ",
                           name, each.requests_total);
        }
        line("Client connections : {}", connections);
        line("Requests received  : {}", requests);
    }
    line("");
    line("----------- Application groups -----------");
    for (const admin::GroupSnapshot& group : pool.groups) {
        line("  App root: {}", group.app_root);
        line("  Requests in queue: {}", group.queue_length);
        if (group.spawning > 0) line("  Processes being started: {}", group.spawning);
        for (const admin::ProcessSnapshot& process : group.processes) {
            line("  * PID: {:<5}   Sessions: {:<5}   Processed: {:<5}   Uptime: {}", process.pid,
                 process.sessions, process.processed, format_duration(process.uptime_seconds));
            line("    CPU: {:<5}   Memory  : {:<5}   Last used: {} ago",
                 fmt::format("{}%", std::lround(process.cpu_percent)),
                 fmt::format("{}M", process.private_memory_kb / 1024),
                 format_duration(process.idle_seconds));
            if (process.state != "ready") line("    State: {}", process.state);
        }
        if (!group.last_error.empty() && group.processes.empty())
            line("  Last error: {}", group.last_error);
        line("");
    }
    return out;
}

std::string format_instance_table(const std::vector<admin::Instance>& instances) {
    std::string out =
        fmt::format("{:<10} {:<8} {:<6} {:<25} {}\n", "Name", "PID", "Port", "Started", "App root");
    out += std::string(78, '-') + "\n";
    for (const admin::Instance& instance : instances) {
        const admin::InstanceProperties& p = instance.properties;
        std::string roots;
        for (const std::string& root : p.app_roots) roots += (roots.empty() ? "" : ", ") + root;
        fmt::format_to(std::back_inserter(out), "{:<10} {:<8} {:<6} {:<25} {}\n", p.name,
                       p.watchdog_pid, p.port, format_local_time(p.started_at), roots);
    }
    return out;
}

std::string format_pick_an_instance(const std::vector<admin::Instance>& instances,
                                    const std::string& how_to_pick) {
    return fmt::format(
        "It appears that multiple Passenger instances are running. Please select a specific one "
        "by running:\n\n  {}\n\nThe following Passenger instances are running:\n\n{}",
        how_to_pick, format_instance_table(instances));
}

}  // namespace passenger::cli

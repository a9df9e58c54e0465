#include "cli/operations_flags.hpp"

#include "config/option_values.hpp"
#include "config/standalone_paths.hpp"
#include "http/trusted_proxies.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <sys/stat.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>

namespace passenger::cli {
namespace {

// Each --trusted-proxy value may list several blocks separated by commas (so that one
// PASSENGER_TRUSTED_PROXY variable can name them all).
std::string add_trusted_proxies(const std::string& text, std::vector<std::string>& blocks) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        std::string item = text.substr(start, comma == std::string::npos ? comma : comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        while (!item.empty() && item.back() == ' ') item.pop_back();
        auto parsed = http::parse_cidr(item);
        if (auto* reason = std::get_if<std::string>(&parsed)) return *reason;
        blocks.push_back(item);
        if (comma == std::string::npos) break;
        start = comma + 1;
    }
    return {};
}

// "HOST=DIR": the host as a request's Host names it (no port, any case).
std::string add_host_app(const std::string& text, std::map<std::string, std::string>& apps) {
    const size_t equals = text.find('=');
    if (equals == std::string::npos || equals == 0 || equals + 1 == text.size())
        return fmt::format("'{}' is not HOST=DIR", text);
    std::string host = text.substr(0, equals);
    for (char& c : host) {
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '-')
            return fmt::format("'{}' is not a host name (letters, digits, . and -)", host);
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    if (!apps.emplace(host, text.substr(equals + 1)).second)
        return fmt::format("host '{}' is given twice", host);
    return {};
}

std::string one_of(const std::string& text, std::initializer_list<const char*> choices,
                   std::string& target) {
    for (const char* choice : choices) {
        if (text == choice) {
            target = text;
            return {};
        }
    }
    return fmt::format("'{}' is not one of: {}", text, fmt::join(choices, ", "));
}

}  // namespace

void declare_operations_flags(CLI::App& app, RawOperationsFlags& raw) {
    app.add_option("--health-check-path", raw.health_check_path,
                   "Answer this path with 200 while the server takes requests and 503 while it "
                   "cannot or drains, without involving the app (default: off)")
        ->type_name("PATH");
    app.add_option("--drain-timeout", raw.drain_timeout,
                   "On SIGTERM (or passenger stop --drain), fail the health check at once and "
                   "keep serving this long before closing the listener (default: 0)")
        ->type_name("SECONDS");
    app.add_option("--trusted-proxy", raw.trusted_proxies,
                   "Believe X-Forwarded-For/-Proto/-Host from peers in this block (repeatable; "
                   "IPv4 or IPv6 CIDR)")
        ->type_name("CIDR")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--app", raw.apps,
                   "Serve the app in DIR for requests whose Host is HOST (repeatable); other "
                   "hosts get APP_DIR's app; all share --max-pool-size")
        ->type_name("HOST=DIR")
        ->allow_extra_args(false)
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--metrics-address", raw.metrics_address,
                   "Serve Prometheus metrics at http://HOST:PORT/metrics (default: off)")
        ->type_name("HOST:PORT");
    app.add_option("--log-format", raw.log_format,
                   "text, or json: one object per line (default: text)")
        ->type_name("FORMAT");
    app.add_option("--access-log", raw.access_log,
                   "Log every request to this file, or - for standard output (default: off)")
        ->type_name("FILE");
    app.add_option("--access-log-format", raw.access_log_format,
                   "combined or json (default: combined)")
        ->type_name("FORMAT");
}

std::string split_host_port(const std::string& text, std::string& host, int& port) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos || colon == 0) return fmt::format("'{}' is not HOST:PORT", text);
    host = text.substr(0, colon);
    if (host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return fmt::format("'{}' is not HOST:PORT", text);
    auto parsed = config::parse_port(text.substr(colon + 1));
    if (auto* reason = std::get_if<std::string>(&parsed)) return *reason;
    port = std::get<int>(parsed);
    return {};
}

std::string apply_operations_flags(const CLI::App& app, const RawOperationsFlags& raw,
                                   config::Options& options) {
    config::OperationsOptions& ops = options.operations;
    auto given = [&](const char* name) { return app.count(name) > 0; };
    if (given("--health-check-path")) {
        if (!raw.health_check_path.starts_with('/'))
            return fmt::format("--health-check-path: '{}' must start with /",
                               raw.health_check_path);
        ops.health_check_path = raw.health_check_path;
    }
    if (given("--drain-timeout")) {
        auto parsed =
            config::parse_int_in_range(raw.drain_timeout, 0, INT_MAX, "a number of seconds >= 0");
        if (auto* reason = std::get_if<std::string>(&parsed)) return "--drain-timeout: " + *reason;
        ops.drain_timeout_seconds = std::get<int>(parsed);
    }
    for (const std::string& text : raw.trusted_proxies)
        if (std::string reason = add_trusted_proxies(text, ops.trusted_proxies); !reason.empty())
            return "--trusted-proxy: " + reason;
    for (const std::string& text : raw.apps)
        if (std::string reason = add_host_app(text, ops.host_apps); !reason.empty())
            return "--app: " + reason;
    if (given("--metrics-address")) {
        std::string host;
        int port = 0;
        if (std::string reason = split_host_port(raw.metrics_address, host, port); !reason.empty())
            return "--metrics-address: " + reason;
        if (port == options.port)
            return fmt::format("--metrics-address: port {} is the app's port; choose another",
                               port);
        ops.metrics_address = raw.metrics_address;
    }
    if (options.log_file == "-" && options.daemonize)
        return "--log-file: - (standard output) cannot be used with --daemonize";
    if (given("--log-format"))
        if (auto reason = one_of(raw.log_format, {"text", "json"}, ops.log_format); !reason.empty())
            return "--log-format: " + reason;
    if (given("--access-log")) {
        if (raw.access_log.empty()) return "--access-log: must not be empty";
        ops.access_log = raw.access_log;
    }
    if (given("--access-log-format"))
        if (auto reason =
                one_of(raw.access_log_format, {"combined", "json"}, ops.access_log_format);
            !reason.empty())
            return "--access-log-format: " + reason;
    return {};
}

std::string resolve_operations_paths(config::OperationsOptions& options, const std::string& cwd) {
    if (!options.access_log.empty() && options.access_log != "-")
        options.access_log = config::absolute_path(options.access_log, cwd);
    for (auto& [host, dir] : options.host_apps) {
        char resolved[PATH_MAX];
        if (::realpath(config::absolute_path(dir, cwd).c_str(), resolved) == nullptr)
            return fmt::format("--app {}={}: {}", host, dir, std::strerror(errno));
        struct stat info {};
        if (::stat(resolved, &info) != 0 || !S_ISDIR(info.st_mode))
            return fmt::format("--app {}={}: not a folder", host, dir);
        dir = resolved;
    }
    return {};
}

}  // namespace passenger::cli

#include "cli/front_end_flags.hpp"

#include "config/option_values.hpp"
#include "config/standalone_paths.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <cstring>

namespace passenger::cli {
namespace {

constexpr uint64_t kMaxSize = uint64_t(1) << 50;

}  // namespace

void declare_front_end_flags(CLI::App& app, RawFrontEndFlags& raw) {
    auto size = [&](const char* name, std::string& target, const char* help) {
        app.add_option(name, target, help)->type_name("SIZE");
    };
    auto seconds = [&](const char* name, std::string& target, const char* help) {
        app.add_option(name, target, help)->type_name("SECONDS");
    };
    size("--client-max-body-size", raw.client_max_body_size,
         "Largest request body; larger ones get 413 (default: 0, unlimited). SIZE: bytes, or "
         "with a k, m or g suffix");
    size("--client-max-header-size", raw.client_max_header_size,
         "Largest request head, all header fields together; larger ones get 431 (default: 32k)");
    size("--client-max-header-line-size", raw.client_max_header_line_size,
         "Largest header field, name and value; larger ones get 431 (default: 8k)");
    app.add_option("--client-max-header-count", raw.client_max_header_count,
                   "Most header fields in a request; more get 431 (default: 100)")
        ->type_name("N");
    size("--client-max-uri-size", raw.client_max_uri_size,
         "Longest request target (path and query); longer ones get 414 (default: 8k)");
    size("--client-body-buffer-size", raw.client_body_buffer_size,
         "Request body bytes held in memory; the rest of a body goes to a temp file under "
         "--data-buffer-dir before the app gets the request (default: 128k)");
    size("--response-buffer-size", raw.response_buffer_size,
         "Response bytes held in memory for a slow client; more go to a temp file, so the app "
         "is free at once (default: 128k)");
    app.add_option("--data-buffer-dir", raw.data_buffer_dir,
                   "Folder for the temp files of buffered bodies (default: $TMPDIR or /tmp)")
        ->type_name("DIR");
    seconds("--client-header-timeout", raw.client_header_timeout,
            "Time a client has to send a request head; then 408 (default: 60, 0: none)");
    seconds("--client-body-timeout", raw.client_body_timeout,
            "Time a client may pause while sending a request body; then 408 (default: 60, 0: "
            "none)");
    seconds("--keepalive-timeout", raw.keepalive_timeout,
            "Time an idle keep-alive connection stays open (default: 75, 0: no limit)");
    seconds("--send-timeout", raw.send_timeout,
            "Time a client may take to accept more of a response; then the connection is "
            "closed (default: 60, 0: none)");
}

std::string apply_front_end_flags(const CLI::App& app, const RawFrontEndFlags& raw,
                                  config::FrontEndOptions& options) {
    auto size = [&](const char* name, const std::string& text, uint64_t min, uint64_t& target) {
        if (app.count(name) == 0) return std::string();
        auto parsed = config::parse_size(text, min, kMaxSize);
        if (auto* reason = std::get_if<std::string>(&parsed))
            return fmt::format("{}: {}", name, *reason);
        target = std::get<uint64_t>(parsed);
        return std::string();
    };
    auto seconds = [&](const char* name, const std::string& text, int& target) {
        if (app.count(name) == 0) return std::string();
        auto parsed = config::parse_int_in_range(text, 0, INT_MAX, "a number of seconds >= 0");
        if (auto* reason = std::get_if<std::string>(&parsed))
            return fmt::format("{}: {}", name, *reason);
        target = std::get<int>(parsed);
        return std::string();
    };
    for (auto error : {
             size("--client-max-body-size", raw.client_max_body_size, 0,
                  options.client_max_body_size),
             size("--client-max-header-size", raw.client_max_header_size, 1024,
                  options.client_max_header_size),
             size("--client-max-header-line-size", raw.client_max_header_line_size, 64,
                  options.client_max_header_line_size),
             size("--client-max-uri-size", raw.client_max_uri_size, 64,
                  options.client_max_uri_size),
             size("--client-body-buffer-size", raw.client_body_buffer_size, 0,
                  options.client_body_buffer_size),
             size("--response-buffer-size", raw.response_buffer_size, 0,
                  options.response_buffer_size),
             seconds("--client-header-timeout", raw.client_header_timeout,
                     options.client_header_timeout_seconds),
             seconds("--client-body-timeout", raw.client_body_timeout,
                     options.client_body_timeout_seconds),
             seconds("--keepalive-timeout", raw.keepalive_timeout,
                     options.keepalive_timeout_seconds),
             seconds("--send-timeout", raw.send_timeout, options.send_timeout_seconds),
         })
        if (!error.empty()) return error;
    if (app.count("--client-max-header-count") > 0) {
        auto parsed = config::parse_int_in_range(raw.client_max_header_count, 1, 100000,
                                                 "a whole number from 1 to 100000");
        if (auto* reason = std::get_if<std::string>(&parsed))
            return "--client-max-header-count: " + *reason;
        options.client_max_header_count = static_cast<uint64_t>(std::get<int>(parsed));
    }
    if (app.count("--data-buffer-dir") > 0) {
        if (raw.data_buffer_dir.empty()) return "--data-buffer-dir: must not be empty";
        options.data_buffer_dir = raw.data_buffer_dir;
    }
    return {};
}

std::string resolve_front_end_paths(config::FrontEndOptions& options, const std::string& cwd) {
    if (options.data_buffer_dir.empty()) return {};
    options.data_buffer_dir = config::absolute_path(options.data_buffer_dir, cwd);
    struct stat info {};
    if (::stat(options.data_buffer_dir.c_str(), &info) != 0)
        return fmt::format("--data-buffer-dir {}: {}", options.data_buffer_dir,
                           std::strerror(errno));
    if (!S_ISDIR(info.st_mode))
        return fmt::format("--data-buffer-dir {} is not a folder", options.data_buffer_dir);
    return {};
}

}  // namespace passenger::cli

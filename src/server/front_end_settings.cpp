#include "server/front_end_settings.hpp"

#include <algorithm>
#include <cstdlib>

namespace passenger::server {
namespace {

std::string default_buffer_dir() {
    const char* tmpdir = std::getenv("TMPDIR");
    return tmpdir != nullptr && tmpdir[0] == '/' ? tmpdir : "/tmp";
}

}  // namespace

FrontEndSettings::FrontEndSettings(const config::FrontEndOptions& options)
    : max_head_size(options.client_max_header_size),
      max_body_size(options.client_max_body_size),
      header_timeout(options.client_header_timeout_seconds),
      body_timeout(options.client_body_timeout_seconds),
      keepalive_timeout(options.keepalive_timeout_seconds),
      send_timeout(options.send_timeout_seconds) {
    head_limits.max_target = options.client_max_uri_size;
    head_limits.max_header_line = options.client_max_header_line_size;
    head_limits.max_header_count = options.client_max_header_count;
    std::string directory =
        options.data_buffer_dir.empty() ? default_buffer_dir() : options.data_buffer_dir;
    request_buffer = {directory, options.client_body_buffer_size};
    response_buffer = {directory, options.response_buffer_size};
    timer_granularity = std::chrono::seconds(60);
    for (auto timeout : {header_timeout, body_timeout, keepalive_timeout, send_timeout}) {
        if (timeout.count() > 0) timer_granularity = std::min(timer_granularity, timeout);
    }
}

}  // namespace passenger::server

// `passenger start` flags for the front end's limits, timeouts and buffering (nginx's names where
// nginx has the setting, Passenger's for --data-buffer-dir), kept apart from start_options so the
// two lists can grow independently.
#pragma once

#include "config/options.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace passenger::cli {

struct RawFrontEndFlags {
    std::string client_max_body_size, client_max_header_size, client_max_header_line_size,
        client_max_header_count, client_max_uri_size, client_body_buffer_size, response_buffer_size,
        data_buffer_dir, client_header_timeout, client_body_timeout, keepalive_timeout,
        send_timeout;
};

void declare_front_end_flags(CLI::App& app, RawFrontEndFlags& raw);
// Validates the given flags into `options`; returns an error line or "".
std::string apply_front_end_flags(const CLI::App& app, const RawFrontEndFlags& raw,
                                  config::FrontEndOptions& options);
// Makes --data-buffer-dir absolute and checks that it is a folder; returns an error line or "".
std::string resolve_front_end_paths(config::FrontEndOptions& options, const std::string& cwd);

}  // namespace passenger::cli

// Short HTML error pages, for rejections by the front end and for app failures.
#pragma once

#include <string>
#include <string_view>

namespace passenger::http {

std::string html_escape(std::string_view text);

// A complete HTML document: a title naming the status and a paragraph (already HTML) of detail.
std::string error_page(int status, std::string_view detail_html);

// The detail of the page for an app that could not be started: when `friendly`
// (config::Options::shows_friendly_error_pages) what it printed (`output`) and why it failed
// (`failure`), otherwise only that something went wrong.
std::string app_start_failure_html(std::string_view app_root, std::string_view failure,
                                   std::string_view output, std::string_view environment,
                                   bool friendly);

// A complete response (status line, Content-Type, Content-Length, Date, Connection, body).
std::string error_response(int status, std::string_view detail_html, bool keep_alive);

}  // namespace passenger::http

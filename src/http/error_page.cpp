#include "http/error_page.hpp"

#include "http/response_head.hpp"

#include <fmt/format.h>

namespace passenger::http {

std::string html_escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
    return out;
}

std::string error_page(int status, std::string_view detail_html) {
    return fmt::format(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{0} {1}</title></head>\n"
        "<body><h1>{0} {1}</h1>\n{2}\n</body></html>\n",
        status, reason_phrase(status), detail_html);
}

std::string app_start_failure_html(std::string_view app_root, std::string_view failure,
                                   std::string_view output, std::string_view environment,
                                   bool friendly) {
    if (!friendly) {
        return "<p>We're sorry, but something went wrong. The application could not be "
               "started; the server log says why.</p>";
    }
    return fmt::format(
        "<p>The application in {} could not be started.</p>\n<p>{}</p>\n"
        "<h2>Application output</h2>\n<pre>{}</pre>\n"
        "<p>This detailed page is shown because friendly error pages are on (the default in "
        "development; the environment is '{}'); otherwise a generic page is shown.</p>",
        html_escape(app_root), html_escape(failure), html_escape(output), html_escape(environment));
}

std::string error_response(int status, std::string_view detail_html, bool keep_alive) {
    std::string body = error_page(status, detail_html);
    ResponseHead head;
    head.status = status;
    head.add("Content-Type", "text/html; charset=utf-8");
    head.add("Content-Length", std::to_string(body.size()));
    head.add("Date", std::string(http_date_now()));
    head.add("Cache-Control", "no-store");
    head.add("Connection", keep_alive ? "keep-alive" : "close");
    return head.serialize() + body;
}

}  // namespace passenger::http

// What the fuzzer checks on one input, shared with the unit test that replays the corpus (so
// every seed and every past crash runs in `make unit-test` too, without clang).
//
// The input is a client's bytes; its first byte picks where they are split into two reads. They
// go through the front end's request path: the parser (llhttp strict, our limits, obs-fold,
// trailers), the sanitizer, the target normalization and the head the app receives. Nothing may
// crash or trip a sanitizer, and a request that is accepted must yield an app head that parses
// back, as exactly one request, into the same method and target, with no untrusted header.
#pragma once

#include "http/message_parser.hpp"
#include "http/request_sanitizer.hpp"
#include "http/response_head.hpp"
#include "proxy/message_heads.hpp"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

namespace passenger::fuzz {

inline void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "request_check: property violated: %s\n", what);
        std::abort();
    }
}

inline void check_request_bytes(const uint8_t* data, size_t size) {
    if (size == 0) return;
    std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
    const size_t split = input.empty() ? 0 : data[0] % (input.size() + 1);

    http::MessageParser parser(http::MessageParser::Kind::request);
    http::HeadLimits limits;
    limits.max_target = 1024;
    limits.max_header_line = 1024;
    limits.max_header_count = 32;
    parser.set_limits(limits);
    std::string body;
    std::string_view pieces[2] = {input.substr(0, split), input.substr(split)};
    bool complete = false;
    for (std::string_view piece : pieces) {
        while (!complete) {
            auto progress = parser.feed(piece, &body);
            if (progress.event == http::MessageParser::Event::error) {
                require(parser.error_status() == 400 || parser.error_status() == 414 ||
                            parser.error_status() == 431,
                        "errors are 400, 414 or 431");
                return;
            }
            piece.remove_prefix(progress.consumed);
            complete = progress.event == http::MessageParser::Event::message_complete;
            // After the head, the same bytes go on as body (an empty feed completes a bodiless
            // message); after need_more, the next piece is needed.
            if (progress.event != http::MessageParser::Event::head_complete) break;
        }
    }
    if (!parser.head_complete()) return;

    http::MessageHead& head = parser.head();
    require(head.target.size() <= limits.max_target, "target within its limit");
    require(head.headers.size() <= limits.max_header_count, "header count within its limit");
    if (http::check_request_head(head)) return;
    if (http::normalize_request_target(head)) return;
    require(head.target == "*" || head.target.starts_with('/'), "origin-form after normalizing");
    std::string_view path = std::string_view(head.target).substr(0, head.target.find('?'));
    require(path.find("/./") == std::string_view::npos && !path.ends_with("/.") &&
                path.find("/../") == std::string_view::npos && !path.ends_with("/.."),
            "no dot segments after normalizing");

    std::string app_head = proxy::app_request_head(head, "127.0.0.1", body.size());
    http::MessageParser again(http::MessageParser::Kind::request);
    std::string again_body;
    auto progress = again.feed(app_head, &again_body);
    require(progress.event == http::MessageParser::Event::head_complete, "app head parses");
    require(progress.consumed == app_head.size(), "app head is exactly one head");
    require(again.head().method == head.method, "same method");
    require(again.head().target == head.target, "same target");
    require(again.head().content_length == body.size() ||
                (body.empty() && !again.head().content_length),
            "Content-Length is the buffered body's");
    require(!again.head().chunked, "no chunked framing towards the app");
    int forwarded_for = 0;
    for (const auto& [name, value] : again.head().headers) {
        require(name.find('_') == std::string::npos, "no underscore header");
        if (http::iequals(name, "x-forwarded-for")) {
            ++forwarded_for;
            require(value == "127.0.0.1", "X-Forwarded-For from the connection");
        }
    }
    require(forwarded_for == 1, "exactly one X-Forwarded-For");
}

}  // namespace passenger::fuzz

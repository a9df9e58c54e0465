#include "static/validators.hpp"

#include "http/response_head.hpp"

#include <fmt/format.h>

namespace passenger::static_files {

namespace {

std::string_view trim_ows(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t')) text.remove_suffix(1);
    return text;
}

std::string_view strip_weak(std::string_view tag) {
    if (tag.size() >= 2 && tag[0] == 'W' && tag[1] == '/') tag.remove_prefix(2);
    return tag;
}

}  // namespace

std::string make_etag(const struct stat& file) {
    auto mtime_ns = static_cast<unsigned long long>(file.st_mtim.tv_sec) * 1000000000ULL +
                    static_cast<unsigned long long>(file.st_mtim.tv_nsec);
    return fmt::format("\"{:x}-{:x}-{:x}\"", mtime_ns,
                       static_cast<unsigned long long>(file.st_size),
                       static_cast<unsigned long long>(file.st_ino));
}

bool none_match_hits(std::string_view header, std::string_view etag) {
    std::string_view own = strip_weak(etag);
    while (!header.empty()) {
        size_t comma = header.find(',');
        std::string_view item = trim_ows(header.substr(0, comma));
        header = comma == std::string_view::npos ? std::string_view() : header.substr(comma + 1);
        if (item == "*" || (!item.empty() && strip_weak(item) == own)) return true;
    }
    return false;
}

bool not_modified_since(std::string_view header, long mtime_seconds) {
    long since = http::parse_http_date(trim_ows(header));
    return since >= 0 && since >= mtime_seconds;
}

bool if_range_holds(std::string_view header, std::string_view etag, long mtime_seconds) {
    header = trim_ows(header);
    if (header.starts_with("W/")) return false;
    if (header.starts_with('"')) return header == etag;
    long date = http::parse_http_date(header);
    return date >= 0 && date == mtime_seconds;
}

}  // namespace passenger::static_files

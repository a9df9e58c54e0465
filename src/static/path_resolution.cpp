#include "static/path_resolution.hpp"

namespace passenger::static_files {

namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Drops the last segment of `out` (which never ends with '/' here).
void pop_segment(std::string& out) {
    size_t slash = out.rfind('/');
    out.resize(slash == std::string::npos ? 0 : slash);
}

}  // namespace

bool percent_decode(std::string_view path, std::string& out) {
    out.clear();
    out.reserve(path.size());
    for (size_t i = 0; i < path.size(); ++i) {
        char c = path[i];
        if (c != '%') {
            out += c;
            continue;
        }
        if (i + 2 >= path.size()) return false;
        int high = hex_value(path[i + 1]);
        int low = hex_value(path[i + 2]);
        if (high < 0 || low < 0) return false;
        out += static_cast<char>(high * 16 + low);
        i += 2;
    }
    return true;
}

ResolvedPath resolve_request_path(std::string_view path) {
    ResolvedPath result;
    std::string decoded;
    if (path.empty() || path.front() != '/' || !percent_decode(path, decoded)) return result;
    if (decoded.find('\0') != std::string::npos) {
        result.verdict = PathVerdict::kBadRequest;
        return result;
    }

    std::string& out = result.relative;
    out.reserve(decoded.size());
    bool names_directory = false;
    size_t start = 1;  // decoded[0] == '/'
    while (start <= decoded.size()) {
        size_t end = decoded.find('/', start);
        if (end == std::string::npos) end = decoded.size();
        std::string_view segment(decoded.data() + start, end - start);
        start = end + 1;

        names_directory = true;
        if (segment.empty() || segment == ".") continue;
        if (segment == "..") {
            if (out.empty()) {
                result.verdict = PathVerdict::kBadRequest;
                result.relative.clear();
                return result;
            }
            pop_segment(out);
            continue;
        }
        names_directory = false;
        if (!out.empty()) out += '/';
        out += segment;
    }
    if (names_directory && !out.empty()) out += '/';
    result.verdict = PathVerdict::kOk;
    return result;
}

}  // namespace passenger::static_files

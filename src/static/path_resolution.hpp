// Turns a request path into a path relative to public/: percent-decoding, then `.`/`..`/empty
// segment normalization. Pure string work; no file system access.
#pragma once

#include <string>
#include <string_view>

namespace passenger::static_files {

enum class PathVerdict {
    kOk,          // `relative` holds the normalized path
    kBadRequest,  // a NUL byte, or `..` climbing above the root: answer 400
    kNotStatic,   // not something a file could answer (malformed escape, no leading '/')
};

struct ResolvedPath {
    PathVerdict verdict = PathVerdict::kNotStatic;
    // Relative to the root, without a leading '/': "" for the root itself, "a/b.txt" for a file.
    // A trailing '/' is kept ("a/b/") when the request named a directory ("/a/b/", "/a/b/.",
    // "/a/c/.."), so a regular file is not served for "/file.txt/". Never contains "//", "."
    // or ".." segments, nor a NUL byte.
    std::string relative;
};

// Percent-decodes `path` into `out` (cleared first). False on a malformed escape ("%", "%4",
// "%zz"). '+' stays '+' (it means a space only in query strings).
bool percent_decode(std::string_view path, std::string& out);

// Decodes and normalizes a request-target path such as "/a/../b%20c.txt".
ResolvedPath resolve_request_path(std::string_view path);

}  // namespace passenger::static_files

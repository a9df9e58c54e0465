// Validators of a file (ETag, Last-Modified) and the request preconditions that test them
// (If-None-Match, If-Modified-Since, If-Range), per RFC 9110 sections 8.8 and 13.
#pragma once

#include <sys/stat.h>

#include <string>
#include <string_view>

namespace passenger::static_files {

// A quoted entity tag built from the mtime (nanoseconds), size and inode, all in hex:
// "\"17e0c9a4b3d2f100-1000-2a\"". It changes whenever the file is replaced or rewritten.
std::string make_etag(const struct stat& file);

// If-None-Match: true when `header` is "*" or lists an entity tag weakly equal to `etag`
// (W/ prefixes ignored on both sides).
bool none_match_hits(std::string_view header, std::string_view etag);

// If-Modified-Since: true when `header` is a valid HTTP date at or after `mtime_seconds`.
bool not_modified_since(std::string_view header, long mtime_seconds);

// If-Range: true when the Range header may be honoured, i.e. `header` is a strong entity tag equal
// to `etag` or an HTTP date equal to `mtime_seconds`. A weak or malformed validator is false.
bool if_range_holds(std::string_view header, std::string_view etag, long mtime_seconds);

}  // namespace passenger::static_files

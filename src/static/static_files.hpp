// Serves files under the app's public/ folder without involving the app: GET and HEAD,
// Content-Type by extension, Last-Modified/ETag with 304, byte ranges (206/416), sendfile.
// Nothing outside public/ is reachable: `..` (also percent-encoded) and symlinks leading out.
#pragma once

#include "common/file_descriptor.hpp"
#include "http/response_head.hpp"
#include "static/public_directory.hpp"
#include "static/small_file_cache.hpp"

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace passenger::static_files {

struct StaticRequest {
    std::string_view method;  // as received, e.g. "GET"
    std::string_view path;    // request-target path without the query, still percent-encoded
    // Header values; empty when the header is absent.
    std::string_view if_none_match;
    std::string_view if_modified_since;
    std::string_view range;
    std::string_view if_range;
};

struct StaticResponse {
    // Status and the entity headers (Content-Type, Content-Length, Last-Modified, ETag,
    // Accept-Ranges, Content-Range). The server adds Date, Server and Connection.
    http::ResponseHead head;
    // A body sent from memory: an error page, or a file of at most inline_file_bytes.
    std::string inline_body;
    FileDescriptor file;  // the file to send from, when a larger file body is sent
    off_t offset = 0;     // where the body starts in the file (a range's first byte)
    size_t length = 0;    // bytes to send from `file` (0 when the body is inline, HEAD, 304, 416)
};

class StaticFiles {
  public:
    // How long what was learnt about public/ is trusted.
    struct Freshness {
        // The open public/ and the paths found missing in it (PublicDirectory).
        std::chrono::nanoseconds refresh = std::chrono::seconds(1);
        // How long a small file must have been left alone to be kept in memory (SmallFileCache).
        std::chrono::nanoseconds cache_min_age = std::chrono::seconds(1);
    };

    // `public_dir` is the absolute path of the app's public/ folder (it may not exist).
    explicit StaticFiles(std::string public_dir) : StaticFiles(std::move(public_dir), {}) {}
    StaticFiles(std::string public_dir, Freshness freshness);

    // The response for a request that maps to a regular file under public/ (or to a directory
    // there that holds index.html), or to a traversal attempt (400). std::nullopt means the
    // request is not for a static file and goes to the app.
    std::optional<StaticResponse> lookup(const StaticRequest& request) const;

    // Files up to this size are read into StaticResponse::inline_body.
    static constexpr uint64_t inline_file_bytes = 16 * 1024;

  private:
    // The response for a file found: from its bytes in memory (`content`), else from `fd`.
    static StaticResponse respond(const StaticRequest& request, const struct stat& info,
                                  std::string_view served_path, const std::string* content,
                                  FileDescriptor fd);

    // Caches: lookups stay logically const.
    mutable PublicDirectory public_dir_;
    mutable SmallFileCache small_files_;
};

}  // namespace passenger::static_files

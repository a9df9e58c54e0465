// Serves files under the app's public/ folder without involving the app: GET and HEAD,
// Content-Type by extension, Last-Modified/ETag with 304, byte ranges (206/416), sendfile.
// Nothing outside public/ is reachable: `..` (also percent-encoded) and symlinks leading out.
#pragma once

#include "http/response_head.hpp"

#include <sys/types.h>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

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

// Owns an open file descriptor; closes it on destruction.
class FileDescriptor {
  public:
    FileDescriptor() = default;
    explicit FileDescriptor(int fd) : fd_(fd) {}
    FileDescriptor(FileDescriptor&& other) noexcept : fd_(other.release()) {}
    FileDescriptor& operator=(FileDescriptor&& other) noexcept;
    FileDescriptor(const FileDescriptor&) = delete;
    FileDescriptor& operator=(const FileDescriptor&) = delete;
    ~FileDescriptor();
    int get() const { return fd_; }
    int release() {
        int fd = fd_;
        fd_ = -1;
        return fd;
    }

  private:
    int fd_ = -1;
};

struct StaticResponse {
    // Status and the entity headers (Content-Type, Content-Length, Last-Modified, ETag,
    // Accept-Ranges, Content-Range). The server adds Date, Server and Connection.
    http::ResponseHead head;
    std::string inline_body;  // a small generated body (error pages); sent before any file bytes
    FileDescriptor file;      // the file to send from, when a file body is sent
    off_t offset = 0;
    size_t length = 0;  // file bytes to send (0 for HEAD, 304, 416)
};

class StaticFiles {
  public:
    // `public_dir` is the absolute path of the app's public/ folder (it may not exist).
    explicit StaticFiles(std::string public_dir);

    // The response for a request that maps to a regular file under public/ (or to a directory
    // there that holds index.html), or to a traversal attempt (400). std::nullopt means the
    // request is not for a static file and goes to the app.
    std::optional<StaticResponse> lookup(const StaticRequest& request) const;

  private:
    std::string public_dir_;
};

// Sends `length` bytes of `fd` starting at `offset` with sendfile(2), waiting for the socket to be
// writable whenever it would block. Returns the first error, or success.
asio::awaitable<std::error_code> send_file(asio::ip::tcp::socket& socket, int fd, off_t offset,
                                           size_t length);

}  // namespace passenger::static_files

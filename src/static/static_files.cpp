#include "static/static_files.hpp"

#include "static/byte_range.hpp"
#include "static/mime_types.hpp"
#include "static/open_beneath.hpp"
#include "static/path_resolution.hpp"
#include "static/validators.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <utility>

namespace passenger::static_files {

namespace {

constexpr std::string_view kBadRequestBody =
    "<html><head><title>400 Bad Request</title></head>"
    "<body><h1>400 Bad Request</h1></body></html>\n";

StaticResponse bad_request(bool is_head) {
    StaticResponse response;
    response.head.status = 400;
    response.head.add("Content-Type", "text/html; charset=utf-8");
    response.head.add("Content-Length", std::to_string(kBadRequestBody.size()));
    if (!is_head) response.inline_body = kBadRequestBody;
    return response;
}

// The file a path names: itself if regular, its index.html if a directory. `served_path` is the
// path whose extension decides the Content-Type.
struct OpenedFile {
    FileDescriptor fd;
    struct stat info {};
    std::string served_path;
};

// A path naming a folder (the root, or one ending in '/') is tried as its index.html at once: for
// the common dynamic `/` that is one failing openat2 instead of an open, fstat and close first.
bool names_folder(const std::string& relative) {
    return relative.empty() || relative.back() == '/';
}

std::optional<OpenedFile> open_file(int root, const std::string& root_path, std::string relative) {
    OpenedFile file;
    if (names_folder(relative)) relative += "index.html";
    file.fd = open_beneath(root, root_path, relative);
    if (file.fd.get() < 0 || ::fstat(file.fd.get(), &file.info) != 0) return std::nullopt;
    if (S_ISDIR(file.info.st_mode)) {
        relative += "/index.html";
        file.fd = open_beneath(root, root_path, relative);
        if (file.fd.get() < 0 || ::fstat(file.fd.get(), &file.info) != 0) return std::nullopt;
    }
    if (!S_ISREG(file.info.st_mode)) return std::nullopt;
    file.served_path = std::move(relative);
    return file;
}

// Reads the whole `length` bytes at `offset` into `out`; false if the file is shorter now.
bool read_fully(int fd, off_t offset, size_t length, std::string& out) {
    out.resize(length);
    size_t done = 0;
    while (done < length) {
        ssize_t n =
            ::pread(fd, out.data() + done, length - done, offset + static_cast<off_t>(done));
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        done += static_cast<size_t>(n);
    }
    if (done == length) return true;
    out.clear();
    return false;
}

StaticResponse not_modified(std::string last_modified, std::string etag) {
    StaticResponse response;
    response.head.status = 304;
    response.head.headers.reserve(2);
    response.head.add("Last-Modified", std::move(last_modified));
    response.head.add("ETag", std::move(etag));
    return response;
}

StaticResponse range_not_satisfiable(uint64_t size) {
    StaticResponse response;
    response.head.status = 416;
    response.head.headers.reserve(2);
    response.head.add("Content-Range", fmt::format("bytes */{}", size));
    response.head.add("Content-Length", "0");
    return response;
}

}  // namespace

StaticFiles::StaticFiles(std::string public_dir, Freshness freshness)
    : public_dir_(std::move(public_dir),
                  std::chrono::duration_cast<PublicDirectory::Clock::duration>(freshness.refresh)),
      small_files_(freshness.cache_min_age) {}

std::optional<StaticResponse> StaticFiles::lookup(const StaticRequest& request) const {
    bool is_head = request.method == "HEAD";
    if (!is_head && request.method != "GET") return std::nullopt;

    ResolvedPath path = resolve_request_path(request.path);
    if (path.verdict == PathVerdict::kBadRequest) return bad_request(is_head);
    if (path.verdict != PathVerdict::kOk) return std::nullopt;

    int root = public_dir_.fd();
    if (root < 0 || public_dir_.known_missing(path.relative)) return std::nullopt;
    if (const SmallFileCache::Entry* cached = small_files_.find(root, path.relative))
        return respond(request, cached->info, cached->served_path, &cached->content, {});

    std::optional<OpenedFile> file = open_file(root, public_dir_.path(), path.relative);
    if (!file) {
        public_dir_.remember_missing(std::move(path.relative));
        return std::nullopt;
    }
    const auto size = static_cast<uint64_t>(file->info.st_size);
    if (size <= inline_file_bytes && small_files_.admits(file->info)) {
        SmallFileCache::Entry entry{file->served_path, file->info, {}};
        if (read_fully(file->fd.get(), 0, static_cast<size_t>(size), entry.content)) {
            if (auto* cached = small_files_.insert(path.relative, std::move(entry)))
                return respond(request, cached->info, cached->served_path, &cached->content, {});
        }
    }
    return respond(request, file->info, file->served_path, nullptr, std::move(file->fd));
}

StaticResponse StaticFiles::respond(const StaticRequest& request, const struct stat& info,
                                    std::string_view served_path, const std::string* content,
                                    FileDescriptor fd) {
    const bool is_head = request.method == "HEAD";
    const long mtime = static_cast<long>(info.st_mtim.tv_sec);
    const auto size = static_cast<uint64_t>(info.st_size);
    std::string etag = make_etag(info);
    std::string last_modified = http::format_http_date(mtime);

    // RFC 9110 13.2.2: If-None-Match, when present, makes If-Modified-Since irrelevant.
    if (!request.if_none_match.empty() ? none_match_hits(request.if_none_match, etag)
                                       : (!request.if_modified_since.empty() &&
                                          not_modified_since(request.if_modified_since, mtime))) {
        return not_modified(std::move(last_modified), std::move(etag));
    }

    ByteRange range;
    if (!request.range.empty() &&
        (request.if_range.empty() || if_range_holds(request.if_range, etag, mtime))) {
        range = parse_byte_range(request.range, size);
    }
    if (range.verdict == RangeVerdict::kUnsatisfiable) return range_not_satisfiable(size);

    StaticResponse response;
    uint64_t length = size;
    if (range.verdict == RangeVerdict::kSatisfiable) {
        response.head.status = 206;
        response.offset = static_cast<off_t>(range.first);
        length = range.length();
    }
    response.head.headers.reserve(6);
    response.head.add("Content-Type", std::string(mime_type_for(served_path)));
    response.head.add("Content-Length", std::to_string(length));
    response.head.add("Last-Modified", std::move(last_modified));
    response.head.add("ETag", std::move(etag));
    response.head.add("Accept-Ranges", "bytes");
    if (range.verdict == RangeVerdict::kSatisfiable) {
        response.head.add("Content-Range",
                          fmt::format("bytes {}-{}/{}", range.first, range.last, size));
    }
    if (is_head) return response;
    if (content != nullptr) {
        response.inline_body.assign(*content, static_cast<size_t>(response.offset),
                                    static_cast<size_t>(length));
        return response;
    }
    // A small part travels with its head in one write: one pread instead of a second send (and
    // the client gets one segment). A file that shrank since fstat is sent from its descriptor,
    // which then fails as a truncation, as a large one would.
    if (length <= inline_file_bytes &&
        read_fully(fd.get(), response.offset, static_cast<size_t>(length), response.inline_body)) {
        return response;
    }
    response.file = std::move(fd);
    response.length = static_cast<size_t>(length);
    return response;
}

}  // namespace passenger::static_files

#include "http/body_buffer.hpp"

#include "common/safe_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

namespace passenger::http {
namespace {

// Memory capacity a buffer keeps between messages: enough for typical small bodies without an
// allocation per request, little enough for thousands of idle connections.
constexpr size_t kept_capacity = 16 * 1024;

std::error_code last_error() {
    return {errno, std::system_category()};
}

}  // namespace

std::error_code BodyBuffer::append(std::string_view data) {
    if (data.empty()) return {};
    if (file_size() == 0 && memory_.size() + data.size() <= settings_->memory_limit) {
        memory_.append(data);
        return {};
    }
    if (fd_ < 0) {
        if (auto error = open_file()) return error;
    }
    // All or nothing: the bytes of a failed append (a full disk) are not part of the buffer, and
    // the blocks a partial write took are given back.
    uint64_t end = file_end_;
    while (!data.empty()) {
        ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(end));
        if (written < 0) {
            if (errno == EINTR) continue;
            std::error_code error = last_error();
            if (end > file_end_) {
                // Should this fail too, the bytes stay unused past the end and are overwritten by
                // the next append.
                [[maybe_unused]] int ignored = ::ftruncate(fd_, static_cast<off_t>(file_end_));
            }
            return error;
        }
        end += static_cast<uint64_t>(written);
        data.remove_prefix(static_cast<size_t>(written));
    }
    file_end_ = end;
    return {};
}

std::error_code BodyBuffer::take(std::string& data) {
    if (empty()) {
        memory_.swap(data);
    } else if (std::error_code error = append(data)) {
        return error;  // `data` keeps the bytes
    }
    data.clear();
    return {};
}

void BodyBuffer::take_memory(std::string& out) {
    out.clear();
    out.swap(memory_);
}

void BodyBuffer::consume_file(uint64_t count) {
    file_begin_ += count;
    if (file_begin_ >= file_end_) {
        // Drained: later bytes may go to memory again; the file restarts (and frees its blocks).
        file_begin_ = file_end_ = 0;
        if (fd_ >= 0 && ::ftruncate(fd_, 0) != 0) close_file();
    }
}

void BodyBuffer::clear() {
    close_file();
    if (memory_.capacity() > kept_capacity) {
        std::string().swap(memory_);
    } else {
        memory_.clear();
    }
}

void BodyBuffer::release() {
    close_file();
    std::string().swap(memory_);
}

std::error_code BodyBuffer::open_file() {
    // Unnamed (O_TMPFILE), in a folder reached without following another user's links: the
    // core may be root (no --user) and the folder anyone's (--data-buffer-dir).
    safe_file::OpenedFile file = safe_file::create_unnamed_file(settings_->directory);
    if (!file.ok())
        return std::make_error_code(file.missing ? std::errc::no_such_file_or_directory
                                                 : std::errc::permission_denied);
    fd_ = file.fd.release();
    return {};
}

void BodyBuffer::close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    file_begin_ = file_end_ = 0;
}

}  // namespace passenger::http

#include "http/body_buffer.hpp"

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
    while (!data.empty()) {
        ssize_t written = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(file_end_));
        if (written < 0) {
            if (errno == EINTR) continue;
            return last_error();
        }
        file_end_ += static_cast<uint64_t>(written);
        data.remove_prefix(static_cast<size_t>(written));
    }
    return {};
}

std::error_code BodyBuffer::take(std::string& data) {
    std::error_code error;
    if (empty()) {
        memory_.swap(data);
    } else {
        error = append(data);
    }
    data.clear();
    return error;
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
    const std::string& directory = settings_->directory;
    fd_ = ::open(directory.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd_ >= 0) return {};
    // File systems without O_TMPFILE: a named file, unlinked at once.
    std::string path = directory + "/passenger-buffer.XXXXXX";
    fd_ = ::mkostemp(path.data(), O_CLOEXEC);
    if (fd_ < 0) return last_error();
    ::unlink(path.c_str());
    return {};
}

void BodyBuffer::close_file() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    file_begin_ = file_end_ = 0;
}

}  // namespace passenger::http

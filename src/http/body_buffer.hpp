// A message body held by the front end: in memory up to a limit, the rest in an unlinked temp
// file under the data buffer dir. Bytes come out in the order they went in: the memory part,
// then the file part. Used for request bodies (filled, then sent to the app, maybe twice) and for
// responses (a FIFO: the app's bytes go in while the client's writer takes them out).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <system_error>

namespace passenger::http {

struct BodyBufferSettings {
    std::string directory = "/tmp";  // where temp files go (created unlinked: O_TMPFILE)
    size_t memory_limit = 128 * 1024;
};

class BodyBuffer {
  public:
    explicit BodyBuffer(const BodyBufferSettings& settings) : settings_(&settings) {}
    BodyBuffer(const BodyBuffer&) = delete;
    BodyBuffer& operator=(const BodyBuffer&) = delete;
    ~BodyBuffer() { close_file(); }

    // Appends to memory while the file part is empty and the memory part stays within the
    // limit; else to the file (created on first use). All or nothing: on an error (the file
    // cannot be created or written: ENOSPC, EDQUOT, EFBIG...) the buffer is as it was.
    std::error_code append(std::string_view data);
    // Appends `data` and leaves it empty; when the buffer is empty, by swapping strings (no copy,
    // whatever the memory limit: the bytes are in memory already). On an error `data` is kept.
    std::error_code take(std::string& data);

    uint64_t size() const { return memory_.size() + file_size(); }
    bool empty() const { return size() == 0; }
    bool spilled() const { return fd_ >= 0; }
    const std::string& directory() const { return settings_->directory; }

    // The first bytes.
    const std::string& memory() const { return memory_; }
    // Moves the memory part into `out` (whose old contents are dropped, capacity reused), so a
    // write from it can be in flight while more bytes are appended here.
    void take_memory(std::string& out);

    // The bytes after memory(): file_size() bytes of file_fd() from file_offset().
    int file_fd() const { return fd_; }
    uint64_t file_offset() const { return file_begin_; }
    uint64_t file_size() const { return file_end_ - file_begin_; }
    // Drops `count` bytes from the front of the file part (memory() must be empty).
    void consume_file(uint64_t count);

    // Empties the buffer: closes the file (its disk space is freed) and keeps a small memory
    // capacity only, so an idle connection holds little.
    void clear();
    // Empties the buffer and frees its memory too: for a connection that goes idle.
    void release();

  private:
    std::error_code open_file();
    void close_file();

    const BodyBufferSettings* settings_;
    std::string memory_;
    int fd_ = -1;
    uint64_t file_begin_ = 0;
    uint64_t file_end_ = 0;
};

}  // namespace passenger::http

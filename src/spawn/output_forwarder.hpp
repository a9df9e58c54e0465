// Copies an app process's stdout and stderr into the log, a line at a time, as
// "App <pid> stdout: <line>", and keeps the most recent output for error pages.
#pragma once

#include <sys/types.h>
#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <memory>
#include <string>

namespace passenger::spawn {

class OutputForwarder : public std::enable_shared_from_this<OutputForwarder> {
  public:
    static constexpr size_t max_recent_output = 16 * 1024;

    // Takes ownership of the read ends of the child's stdout and stderr pipes.
    static std::shared_ptr<OutputForwarder> start(asio::io_context& io, pid_t pid, int stdout_fd,
                                                  int stderr_fd);

    // The last bytes the app wrote to either stream, interleaved as they arrived.
    const std::string& recent_output() const { return recent_; }
    // True once both streams reached end of file.
    bool finished() const { return open_streams_ == 0; }

  private:
    OutputForwarder(asio::io_context& io, pid_t pid, int stdout_fd, int stderr_fd);
    void read_stream(asio::posix::stream_descriptor& stream, const char* name,
                     std::string& pending);
    void emit_lines(const char* name, std::string& pending, bool flush_partial);
    void remember(std::string_view bytes);

    pid_t pid_;
    asio::posix::stream_descriptor stdout_;
    asio::posix::stream_descriptor stderr_;
    std::string stdout_pending_;
    std::string stderr_pending_;
    std::string recent_;
    char stdout_buffer_[4096];
    char stderr_buffer_[4096];
    int open_streams_ = 2;
};

}  // namespace passenger::spawn

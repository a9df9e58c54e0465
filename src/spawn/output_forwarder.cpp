#include "spawn/output_forwarder.hpp"

#include "common/log.hpp"

#include <asio/buffer.hpp>

namespace passenger::spawn {

std::shared_ptr<OutputForwarder> OutputForwarder::start(asio::io_context& io, pid_t pid,
                                                        int stdout_fd, int stderr_fd) {
    std::shared_ptr<OutputForwarder> forwarder(new OutputForwarder(io, pid, stdout_fd, stderr_fd));
    forwarder->read_stream(forwarder->stdout_, "stdout", forwarder->stdout_pending_);
    forwarder->read_stream(forwarder->stderr_, "stderr", forwarder->stderr_pending_);
    return forwarder;
}

OutputForwarder::OutputForwarder(asio::io_context& io, pid_t pid, int stdout_fd, int stderr_fd)
    : pid_(pid), stdout_(io, stdout_fd), stderr_(io, stderr_fd) {}

void OutputForwarder::read_stream(asio::posix::stream_descriptor& stream, const char* name,
                                  std::string& pending) {
    char* buffer = &stream == &stdout_ ? stdout_buffer_ : stderr_buffer_;
    stream.async_read_some(asio::buffer(buffer, sizeof stdout_buffer_),
                           [self = shared_from_this(), &stream, name, &pending, buffer](
                               const asio::error_code& error, size_t count) {
                               if (error) {
                                   self->emit_lines(name, pending, true);
                                   --self->open_streams_;
                                   return;
                               }
                               std::string_view bytes(buffer, count);
                               self->remember(bytes);
                               pending.append(bytes);
                               self->emit_lines(name, pending, false);
                               self->read_stream(stream, name, pending);
                           });
}

void OutputForwarder::emit_lines(const char* name, std::string& pending, bool flush_partial) {
    size_t start = 0;
    for (size_t newline; (newline = pending.find('\n', start)) != std::string::npos;
         start = newline + 1) {
        std::string_view line(pending.data() + start, newline - start);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        log::write_app_output(pid_, name, line);
    }
    pending.erase(0, start);
    // A very long line without a newline is logged in pieces rather than held forever.
    if ((flush_partial && !pending.empty()) || pending.size() > 8192) {
        log::write_app_output(pid_, name, pending);
        pending.clear();
    }
}

void OutputForwarder::remember(std::string_view bytes) {
    recent_.append(bytes);
    if (recent_.size() > max_recent_output) recent_.erase(0, recent_.size() - max_recent_output);
}

}  // namespace passenger::spawn

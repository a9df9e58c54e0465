// The watchdog handles signals synchronously: they are blocked and read from a signalfd inside
// its poll loop, so there is no async-signal-safety to worry about and no signal is lost between
// checks. Children must get the original mask back before exec (see core_process.cpp).
#pragma once

#include "common/file_descriptor.hpp"

#include <signal.h>

#include <optional>
#include <string>

namespace passenger::watchdog {

class SignalReceiver {
  public:
    // Blocks SIGINT, SIGTERM, SIGHUP and SIGCHLD and opens a signalfd for them; ignores SIGPIPE.
    // `error` is set if the signalfd could not be created.
    SignalReceiver();
    ~SignalReceiver();
    SignalReceiver(const SignalReceiver&) = delete;
    SignalReceiver& operator=(const SignalReceiver&) = delete;

    int fd() const { return fd_.get(); }
    const std::string& error() const { return error_; }
    // The mask from before construction: what a child process should run with.
    const sigset_t& original_mask() const { return original_mask_; }
    // The next pending signal number, without blocking; nullopt when none is pending.
    std::optional<int> next();

  private:
    FileDescriptor fd_;
    sigset_t original_mask_{};
    struct sigaction original_sigpipe_ {};
    std::string error_;
};

}  // namespace passenger::watchdog

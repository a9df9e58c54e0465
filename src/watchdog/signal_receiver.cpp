#include "watchdog/signal_receiver.hpp"

#include <fmt/format.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::watchdog {

SignalReceiver::SignalReceiver() {
    sigset_t handled;
    sigemptyset(&handled);
    for (int signal_number : {SIGINT, SIGTERM, SIGHUP, SIGCHLD, SIGUSR1})
        sigaddset(&handled, signal_number);
    sigprocmask(SIG_BLOCK, &handled, &original_mask_);
    // A daemon writing its status to a parent that has gone must get EPIPE, not die.
    struct sigaction ignore {};
    ignore.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &ignore, &original_sigpipe_);
    fd_.reset(::signalfd(-1, &handled, SFD_NONBLOCK | SFD_CLOEXEC));
    if (!fd_.valid()) error_ = fmt::format("cannot create a signalfd: {}", std::strerror(errno));
}

SignalReceiver::~SignalReceiver() {
    sigaction(SIGPIPE, &original_sigpipe_, nullptr);
    sigprocmask(SIG_SETMASK, &original_mask_, nullptr);
}

std::optional<int> SignalReceiver::next() {
    signalfd_siginfo info{};
    while (true) {
        ssize_t length = ::read(fd_.get(), &info, sizeof info);
        if (length == static_cast<ssize_t>(sizeof info)) return static_cast<int>(info.ssi_signo);
        if (length < 0 && errno == EINTR) continue;
        return std::nullopt;
    }
}

}  // namespace passenger::watchdog

#include "watchdog/nginx_watchdog.hpp"

#include "common/log.hpp"
#include "watchdog/core_supervisor.hpp"
#include "watchdog/module_socket.hpp"
#include "watchdog/signal_receiver.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace passenger::watchdog {

void report_to_module(const std::string& line) {
    std::string text = line + "\n";
    (void)!::write(kReportFd, text.data(), text.size());
    ::close(kReportFd);
}

int run_nginx_watchdog(const config::Options& options) {
    log::set_role("watchdog");
    log::set_level(static_cast<log::Level>(options.log_level));
    // Without a log file (nginx logs to stderr), lines go to the inherited stderr.
    if (std::string error = log::open(options.log_file, options.log_file.empty()); !error.empty()) {
        report_to_module("error " + error);
        return 1;
    }
    // Neither the lifeline nor the report may reach the core or the apps.
    ::fcntl(kLifelineFd, F_SETFD, FD_CLOEXEC);
    ::fcntl(kReportFd, F_SETFD, FD_CLOEXEC);
    ModuleSocket socket = bind_module_socket(options.user);
    if (!socket.error.empty()) {
        log::error("{}", socket.error);
        report_to_module("error " + socket.error);
        return 1;
    }
    SignalReceiver signals;
    if (!signals.error().empty()) {
        remove_module_socket(socket);
        report_to_module("error " + signals.error());
        return 1;
    }
    log::notice("Watchdog {} listening on {} for {}", ::getpid(), socket.path,
                options.integration_mode);
    report_to_module("listening " + socket.path);

    CoreSupervisor supervisor(options, socket.socket.get(), signals);
    supervisor.watch_lifeline(FileDescriptor(kLifelineFd));
    int exit_code = supervisor.run({});
    remove_module_socket(socket);
    log::notice("Watchdog {} exiting", ::getpid());
    return exit_code;
}

}  // namespace passenger::watchdog

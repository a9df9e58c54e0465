// Hidden `passenger nginx-watchdog|apache2-watchdog [passenger start options]`: what the nginx
// and Apache modules exec (see
// watchdog/nginx_watchdog.hpp). The options are the server-wide ones, checked by `passenger
// start`'s parser.
#include "cli/start_options.hpp"
#include "cli/subcommands.hpp"
#include "watchdog/nginx_watchdog.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace passenger::cli {

int run_nginx_watchdog_command(const std::vector<std::string>& args, const std::string& server) {
    struct stat info {};
    if (::fstat(watchdog::kLifelineFd, &info) != 0 || ::fstat(watchdog::kReportFd, &info) != 0) {
        fmt::print(stderr, "passenger {}-watchdog: started by the {} module, not by hand\n", server,
                   server);
        return 1;
    }
    StartCommandLine command_line = parse_start_options(args);
    if (!command_line.error.empty()) {
        watchdog::report_to_module("error " + command_line.error);
        return 1;
    }
    config::Options& options = command_line.options;
    options.integration_mode = server;
    return watchdog::run_nginx_watchdog(options);
}

}  // namespace passenger::cli

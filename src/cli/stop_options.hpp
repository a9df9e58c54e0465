// `passenger stop [APP_DIR] [--port P | --pid-file F]` → which pid file to signal. It must find
// the same file `passenger start` with the same APP_DIR and port wrote.
#pragma once

#include <string>
#include <vector>

namespace passenger::cli {

struct StopCommandLine {
    std::string app_dir;  // as typed; empty means the current folder
    int port = 3000;
    bool port_given = false;  // else a Passengerfile.json in the app folder may name it
    std::string pid_file;     // as typed; wins over APP_DIR and --port when given
    bool drain = false;       // --drain: SIGTERM (the server drains for its --drain-timeout)
    std::string help;         // usage text when --help was given
    std::string error;        // one line naming the option
};

// `args` are the words after "stop".
StopCommandLine parse_stop_options(const std::vector<std::string>& args);

// The absolute pid file path, or an error line in `error`. Without --port and --pid-file, the app
// folder's Passengerfile.json may name either, as it did for `passenger start`.
std::string resolve_stop_pid_file(const StopCommandLine& command_line, const std::string& cwd,
                                  std::string& error);

}  // namespace passenger::cli

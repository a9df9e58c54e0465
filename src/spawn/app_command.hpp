// The command line that starts one process of a detected app, and where that process will
// listen: node, rack and wsgi apps run under a loader (loaders/<language>/) on a Unix socket;
// meteor (`meteor run --port P`) and generic apps (`/bin/sh -c COMMAND`) on 127.0.0.1:$PORT.
#pragma once

#include "config/options.hpp"
#include "spawn/app_detection.hpp"
#include "spawn/app_endpoint.hpp"

#include <optional>
#include <string>
#include <vector>

namespace passenger::spawn {

struct AppCommandPlaces {
    std::string socket_path;           // the Unix socket the loader listens on
    unsigned short port = 0;           // $PORT: what meteor and generic apps listen on
    std::string meteor_settings_file;  // meteor: passed as --settings when not empty
};

struct AppCommand {
    std::vector<std::string> argv;
    AppEndpoint endpoint;     // where the process will accept connections
    bool app_socket = false;  // the process is told PASSENGER_APP_SOCKET
};

AppCommand app_command(const AppDetection& app, const config::Options& options,
                       const AppCommandPlaces& places);

// The settings file for `meteor run --settings`: --meteor-app-settings if given, else
// METEOR_SETTINGS (its JSON, as the app's environment has it) written to `scratch_path`
// (mode 0600), else none (""). `error` says why the file could not be written.
struct MeteorSettings {
    std::string file;
    std::string error;
};
MeteorSettings prepare_meteor_settings(const config::Options& options,
                                       const std::optional<std::string>& meteor_settings_variable,
                                       const std::string& scratch_path);

// argv joined by spaces, for the log.
std::string describe_command(const std::vector<std::string>& argv);

}  // namespace passenger::spawn

// Decides what to run for an app folder. Only Node.js so far (app.js or --startup-file).
#pragma once

#include "config/options.hpp"

#include <string>

namespace passenger::spawn {

struct AppDetection {
    std::string app_type;      // "node"; empty when nothing startable was found
    std::string startup_file;  // absolute path
    std::string error;         // a message naming what was looked for, when app_type is empty
};

AppDetection detect_app(const config::Options& options);

}  // namespace passenger::spawn

// Decides what kind of app an app folder holds and which file starts it.
//
// --app-type NAME decides the type outright. Otherwise an explicit option does
// (--app-start-command: generic; -R/--rackup: rack; --startup-file: by its extension, .ru rack,
// .py wsgi, anything else node), and failing that the first of these files that exists:
// config.ru (rack), passenger_wsgi.py (wsgi), .meteor/ (meteor), app.js (node).
#pragma once

#include "config/options.hpp"

#include <string>
#include <string_view>

namespace passenger::spawn {

namespace app_types {
inline constexpr const char* node = "node";
inline constexpr const char* rack = "rack";
inline constexpr const char* wsgi = "wsgi";
inline constexpr const char* meteor = "meteor";
inline constexpr const char* generic = "generic";
}  // namespace app_types

struct AppDetection {
    std::string app_type;      // one of app_types; empty when nothing startable was found
    std::string startup_file;  // absolute path (node, rack, wsgi); empty for meteor and generic
    std::string error;         // a message naming what was looked for, when app_type is empty
};

AppDetection detect_app(const config::Options& options);

// Requests one process of this type takes at once unless configured (0: no limit): 1 for rack
// and wsgi, whose loaders serve one request at a time; no limit for node, meteor (its long
// polling holds requests open) and generic apps.
int default_max_concurrent_requests(std::string_view app_type);

}  // namespace passenger::spawn

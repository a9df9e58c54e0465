// How the pool tells apps apart (the group key) and notices that an app's settings changed (the
// settings fingerprint), from the app's Options.
#pragma once

#include "config/options.hpp"

#include <string>

namespace passenger::pool {

// The name of an app's group in the pool: its root folder, as given, and its base URI if it has
// one ("/srv/app (at /sub)"): nginx may serve one folder at several base URIs, each its own app.
std::string group_key(const config::Options& options);

// Equal for two Options exactly when the app's processes would be started and run the same way.
// Only server-wide and front-end settings are left out (listening address, log and pid files,
// the shared --max-pool-size and --pool-idle-time, client limits): any other field, including one
// added later, counts, so a changed setting restarts the app rather than being silently ignored.
std::string app_settings_fingerprint(const config::Options& options);

}  // namespace passenger::pool

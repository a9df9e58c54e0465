// Where this installation's files are, found from the running executable (/proc/self/exe), so
// the binary works wherever it is: in the checkout (build/passenger, whose bin/ symlinks point
// at it) and installed by `make install` (PREFIX/bin/passenger, PREFIX/lib/passenger/...). The
// apps and nginx then only read the installed tree, never the checkout.
#pragma once

#include <string>

namespace passenger {

struct InstallPaths {
    std::string root;            // holds bin/passenger: the value for nginx's passenger_root
    std::string support;         // holds loaders/ (the checkout, or PREFIX/lib/passenger)
    std::string nginx_module;    // ngx_http_passenger_module.so (it may not be built)
    std::string apache2_module;  // mod_passenger.so (`make apache2-module`; it may not be built)
};

// Computed once. The checkout's layout (ROOT/build/passenger, ROOT/loaders) or the installed one
// (PREFIX/bin/passenger, PREFIX/lib/passenger/loaders); if neither is found (a build folder
// outside the checkout), the checkout the binary was built from.
const InstallPaths& install_paths();

// For tests: the paths for an executable at `executable` (symlinks resolved).
InstallPaths install_paths_for(const std::string& executable);

}  // namespace passenger

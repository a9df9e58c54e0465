#include "common/install_paths.hpp"

#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace passenger {
namespace {

constexpr const char* kModuleFile = "/ngx_http_passenger_module.so";
constexpr const char* kApacheModuleFile = "/mod_passenger.so";
// Where `make apache2-module` leaves it in a checkout.
constexpr const char* kApacheModuleInCheckout = "/src/integrations/apache2/mod_passenger.so";

bool is_folder(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string parent_of(const std::string& path) {
    size_t slash = path.find_last_of('/');
    return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

}  // namespace

InstallPaths install_paths_for(const std::string& executable) {
    char resolved[PATH_MAX];
    std::string real = ::realpath(executable.c_str(), resolved) ? resolved : executable;
    const std::string executable_dir = parent_of(real);
    const std::string above = parent_of(executable_dir);
    InstallPaths paths;
    if (is_folder(above + "/lib/passenger/loaders")) {  // PREFIX/bin/passenger
        paths.root = above;
        paths.support = above + "/lib/passenger";
        paths.nginx_module = paths.support + kModuleFile;
        paths.apache2_module = paths.support + kApacheModuleFile;
    } else if (is_folder(above + "/loaders")) {  // CHECKOUT/BUILD_DIR/passenger
        paths.root = above;
        paths.support = above;
        paths.nginx_module = executable_dir + kModuleFile;
        paths.apache2_module = above + kApacheModuleInCheckout;
    } else {
        paths.root = PASSENGER_SOURCE_ROOT;
        paths.support = PASSENGER_SOURCE_ROOT;
        paths.nginx_module = std::string(PASSENGER_BUILD_DIR) + kModuleFile;
        paths.apache2_module = std::string(PASSENGER_SOURCE_ROOT) + kApacheModuleInCheckout;
    }
    return paths;
}

const InstallPaths& install_paths() {
    static const InstallPaths paths = install_paths_for("/proc/self/exe");
    return paths;
}

}  // namespace passenger

#include "spawn/app_detection.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace passenger::spawn {
namespace {

bool is_regular_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

}  // namespace

AppDetection detect_app(const config::Options& options) {
    AppDetection result;
    if (!options.app_type.empty() && options.app_type != "node") {
        result.error = fmt::format("unsupported app type '{}' (supported: node)", options.app_type);
        return result;
    }
    std::string startup = options.startup_file.empty() ? "app.js" : options.startup_file;
    std::string path = startup.starts_with('/') ? startup : options.app_root + "/" + startup;
    if (!is_regular_file(path)) {
        result.error = options.startup_file.empty()
                           ? fmt::format(
                                 "no application found in {}: looked for app.js "
                                 "(use --startup-file FILE to name another)",
                                 options.app_root)
                           : fmt::format("startup file {} does not exist", path);
        return result;
    }
    result.app_type = "node";
    result.startup_file = path;
    return result;
}

}  // namespace passenger::spawn

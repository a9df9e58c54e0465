#include "spawn/app_detection.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

namespace passenger::spawn {
namespace {

bool is_regular_file(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode);
}

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

std::string in_app(const config::Options& options, const std::string& file) {
    return file.starts_with('/') ? file : options.app_root + "/" + file;
}

AppDetection failed(std::string error) {
    AppDetection result;
    result.error = std::move(error);
    return result;
}

// The type named by options, or "" to look at the folder.
std::string type_from_options(const config::Options& options) {
    if (!options.app_type.empty()) return options.app_type;
    if (!options.app_start_command.empty()) return app_types::generic;
    if (!options.rackup.empty()) return app_types::rack;
    const std::string& file = options.startup_file;
    if (file.empty()) return {};
    if (file.ends_with(".ru")) return app_types::rack;
    if (file.ends_with(".py")) return app_types::wsgi;
    return app_types::node;
}

std::string type_from_folder(const config::Options& options) {
    if (is_regular_file(in_app(options, "config.ru"))) return app_types::rack;
    if (is_regular_file(in_app(options, "passenger_wsgi.py"))) return app_types::wsgi;
    if (is_directory(in_app(options, ".meteor"))) return app_types::meteor;
    if (is_regular_file(in_app(options, "app.js"))) return app_types::node;
    return {};
}

// The node, rack and wsgi types run a file: the one named by an option, else the type's default.
AppDetection with_startup_file(const config::Options& options, const std::string& type,
                               const std::string& named, const char* option,
                               const char* default_file) {
    std::string path = in_app(options, named.empty() ? default_file : named);
    if (!is_regular_file(path)) {
        return failed(named.empty()
                          ? fmt::format("--app-type {}: {} does not exist (name another file with "
                                        "{} FILE)",
                                        type, path, option)
                          : fmt::format("startup file {} does not exist", path));
    }
    AppDetection result;
    result.app_type = type;
    result.startup_file = path;
    return result;
}

}  // namespace

AppDetection detect_app(const config::Options& options) {
    std::string type = type_from_options(options);
    if (type.empty()) type = type_from_folder(options);
    if (type.empty()) {
        return failed(fmt::format(
            "no application found in {}: looked for config.ru (Rack), passenger_wsgi.py (Python "
            "WSGI), .meteor/ (Meteor) and app.js (Node.js). Name the entry file with "
            "--startup-file FILE (and --app-type node|rack|wsgi), or give a command that listens "
            "on $PORT with --app-start-command 'COMMAND'",
            options.app_root));
    }
    if (type == app_types::node)
        return with_startup_file(options, type, options.startup_file, "--startup-file", "app.js");
    if (type == app_types::rack) {
        const std::string& named = options.rackup.empty() ? options.startup_file : options.rackup;
        return with_startup_file(options, type, named, "--rackup", "config.ru");
    }
    if (type == app_types::wsgi) {
        return with_startup_file(options, type, options.startup_file, "--startup-file",
                                 "passenger_wsgi.py");
    }
    if (type == app_types::meteor) {
        if (!is_directory(in_app(options, ".meteor"))) {
            return failed(fmt::format(
                "--app-type meteor: {} is not a Meteor app directory (it has no .meteor/ "
                "folder); a Meteor bundle runs with --app-type node --startup-file main.js",
                options.app_root));
        }
        if (!options.meteor_app_settings.empty() && !is_regular_file(options.meteor_app_settings)) {
            return failed(fmt::format("--meteor-app-settings: {} does not exist",
                                      options.meteor_app_settings));
        }
        AppDetection result;
        result.app_type = type;
        return result;
    }
    if (type == app_types::generic) {
        if (options.app_start_command.empty())
            return failed("--app-type generic needs --app-start-command 'COMMAND'");
        AppDetection result;
        result.app_type = type;
        return result;
    }
    return failed(fmt::format(
        "unsupported app type '{}' (supported: node, rack, wsgi, meteor, generic)", type));
}

int default_max_concurrent_requests(std::string_view app_type) {
    return app_type == app_types::rack || app_type == app_types::wsgi ? 1 : 0;
}

}  // namespace passenger::spawn

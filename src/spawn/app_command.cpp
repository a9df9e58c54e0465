#include "spawn/app_command.hpp"

#include "common/install_paths.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::spawn {
namespace {

std::string loader(const char* relative_path) {
    return install_paths().support + "/loaders/" + relative_path;
}

}  // namespace

AppCommand app_command(const AppDetection& app, const config::Options& options,
                       const AppCommandPlaces& places) {
    AppCommand command;
    const std::string& type = app.app_type;
    if (type == app_types::meteor || type == app_types::generic) {
        command.endpoint = loopback_endpoint(places.port);
        if (type == app_types::generic) {
            command.argv = {"/bin/sh", "-c", options.app_start_command};
            return command;
        }
        command.argv = {"meteor", "run", "--port", std::to_string(places.port)};
        if (options.production()) command.argv.emplace_back("--production");
        if (!places.meteor_settings_file.empty()) {
            command.argv.emplace_back("--settings");
            command.argv.push_back(places.meteor_settings_file);
        }
        return command;
    }
    command.endpoint = unix_endpoint(places.socket_path);
    command.app_socket = true;
    if (type == app_types::rack) {
        command.argv = {options.ruby, loader("ruby/rack_loader.rb"), app.startup_file};
    } else if (type == app_types::wsgi) {
        command.argv = {options.python, loader("python/wsgi_loader.py"), app.startup_file};
    } else {
        command.argv = {options.nodejs, "--require", loader("node/listen_redirect.js"),
                        app.startup_file};
    }
    return command;
}

MeteorSettings prepare_meteor_settings(const config::Options& options,
                                       const std::optional<std::string>& meteor_settings_variable,
                                       const std::string& scratch_path) {
    MeteorSettings result;
    if (!options.meteor_app_settings.empty()) {
        result.file = options.meteor_app_settings;
        return result;
    }
    if (!meteor_settings_variable || meteor_settings_variable->empty()) return result;
    int fd = ::open(scratch_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    const std::string& json = *meteor_settings_variable;
    bool written =
        fd >= 0 && ::write(fd, json.data(), json.size()) == static_cast<ssize_t>(json.size());
    int error = errno;
    if (fd >= 0) ::close(fd);
    if (!written) {
        result.error = fmt::format("cannot write METEOR_SETTINGS to {}: {}", scratch_path,
                                   std::strerror(error));
        return result;
    }
    result.file = scratch_path;
    return result;
}

std::string describe_command(const std::vector<std::string>& argv) {
    return fmt::format("{}", fmt::join(argv, " "));
}

}  // namespace passenger::spawn

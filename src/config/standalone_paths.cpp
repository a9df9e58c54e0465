#include "config/standalone_paths.hpp"

#include <fmt/format.h>
#include <sys/stat.h>

#include <filesystem>

namespace passenger::config {
namespace {

bool is_directory(const std::string& path) {
    struct stat info {};
    return ::stat(path.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

}  // namespace

std::string default_pid_file(const std::string& app_root, int port) {
    std::string folder = app_root + "/tmp/pids";
    if (!is_directory(folder)) folder = app_root;
    return fmt::format("{}/passenger.{}.pid", folder, port);
}

std::string default_log_file(const std::string& app_root, int port) {
    std::string folder = app_root + "/log";
    if (!is_directory(folder)) folder = app_root;
    return fmt::format("{}/passenger.{}.log", folder, port);
}

std::string absolute_path(const std::string& path, const std::string& cwd) {
    std::filesystem::path typed(path);
    if (typed.is_relative()) typed = std::filesystem::path(cwd) / typed;
    return typed.lexically_normal().string();
}

}  // namespace passenger::config

#include "config/passengerfile.hpp"

#include <fmt/format.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace passenger::config {

std::variant<nlohmann::json, std::string> read_passengerfile(const std::string& app_dir) {
    const std::string path = app_dir + "/" + passengerfile_name;
    std::ifstream file(path);
    if (!file) {
        // No file, or no such folder (which the caller reports in its own words).
        if (errno == ENOENT || errno == ENOTDIR) return nlohmann::json::object();
        return fmt::format("{}: {}", passengerfile_name, std::strerror(errno));
    }
    std::stringstream text;
    text << file.rdbuf();
    nlohmann::json settings = nlohmann::json::parse(text.str(), nullptr, /*allow_exceptions=*/false,
                                                    /*ignore_comments=*/true);
    if (settings.is_discarded()) return fmt::format("{}: not valid JSON", passengerfile_name);
    if (!settings.is_object())
        return fmt::format("{}: must hold a JSON object of settings", passengerfile_name);
    return settings;
}

}  // namespace passenger::config

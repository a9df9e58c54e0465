#include "config/passengerfile.hpp"

#include "common/safe_file.hpp"

#include <fmt/format.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace passenger::config {
namespace {

// Settings that name files root opens for the server: another user's file must not choose them
// (`"pid_file": "/etc/shadow"` would have root replace that file; `"ssl_certificate_key"` naming
// another site's key would hand it to the app's user).
struct RootOpenedFile {
    const char* key;
    const char* how;
};
constexpr RootOpenedFile kRootOpenedFiles[] = {
    {"log_file", "writes"},
    {"pid_file", "writes"},
    {"ssl_certificate", "reads for the server"},
    {"ssl_certificate_key", "reads for the server"},
};

std::string check_settings_for_root(const nlohmann::json& settings, uid_t file_owner) {
    if (::geteuid() != 0 || file_owner == 0) return {};
    for (const auto& [key, how] : kRootOpenedFiles) {
        if (!settings.contains(key)) continue;
        passwd* entry = ::getpwuid(file_owner);
        std::string owner = entry ? entry->pw_name : std::to_string(file_owner);
        return fmt::format(
            "{}: '{}' names a file root {}, and this file belongs to user {}; give it on the "
            "command line instead",
            passengerfile_name, key, how, owner);
    }
    return {};
}

}  // namespace

std::variant<nlohmann::json, std::string> read_passengerfile(const std::string& app_dir) {
    const std::string path = app_dir + "/" + passengerfile_name;
    // Read by root too (`sudo passenger start`), in a folder the app user owns: no link there is
    // followed, and no other user's file in a folder others can write is believed.
    safe_file::OpenedFile file = safe_file::open_file(path, safe_file::Access::read);
    if (!file.ok()) {
        // No file, or no such folder (which the caller reports in its own words).
        if (file.missing || file.error.ends_with(" is not a folder"))
            return nlohmann::json::object();
        return safe_file::describe(passengerfile_name, path, file.error);
    }
    std::string text;
    char buffer[16384];
    ssize_t length = 0;
    while ((length = ::read(file.fd.get(), buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<size_t>(length));
    if (length < 0) return fmt::format("{}: {}", passengerfile_name, std::strerror(errno));
    nlohmann::json settings = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false,
                                                    /*ignore_comments=*/true);
    if (settings.is_discarded()) return fmt::format("{}: not valid JSON", passengerfile_name);
    if (!settings.is_object())
        return fmt::format("{}: must hold a JSON object of settings", passengerfile_name);
    if (std::string refusal = check_settings_for_root(settings, file.info.st_uid); !refusal.empty())
        return refusal;
    return settings;
}

}  // namespace passenger::config

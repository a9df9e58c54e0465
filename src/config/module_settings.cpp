#include "config/module_settings.hpp"

#include <fmt/format.h>

#include <functional>

namespace passenger::config {

std::string for_each_setting_pair(
    std::string_view block,
    const std::function<std::string(std::string_view, std::string_view)>& on_pair) {
    while (!block.empty()) {
        size_t name_end = block.find('\0');
        if (name_end == std::string_view::npos) return "a name without a value";
        size_t value_end = block.find('\0', name_end + 1);
        if (value_end == std::string_view::npos) return "a value without its terminating NUL";
        std::string_view name = block.substr(0, name_end);
        std::string_view value = block.substr(name_end + 1, value_end - name_end - 1);
        if (name.empty()) return "an empty name";
        if (std::string error = on_pair(name, value); !error.empty()) return error;
        block.remove_prefix(value_end + 1);
    }
    return {};
}

std::variant<nlohmann::json, std::string> parse_settings_block(std::string_view block) {
    nlohmann::json settings = nlohmann::json::object();
    std::string error =
        for_each_setting_pair(block, [&](std::string_view name, std::string_view value) {
            std::string key(name);
            if (key == "envvar") {
                size_t equals = value.find('=');
                if (equals == 0 || equals == std::string_view::npos)
                    return fmt::format("envvar '{}' is not NAME=VALUE", value);
                settings["envvars"][std::string(value.substr(0, equals))] =
                    std::string(value.substr(equals + 1));
                return std::string();
            }
            if (key == "envvars" || settings.contains(key))
                return fmt::format("'{}' appears twice", key);
            if (value == "true" || value == "false")
                settings[key] = value == "true";
            else
                settings[key] = std::string(value);
            return std::string();
        });
    if (!error.empty()) return error;
    if (!settings.contains("app_root") || !settings["app_root"].is_string() ||
        !settings["app_root"].get<std::string>().starts_with('/'))
        return std::string("no absolute app_root");
    return settings;
}

std::variant<RequestFields, std::string> parse_request_fields(std::string_view block) {
    RequestFields fields;
    std::string error =
        for_each_setting_pair(block, [&](std::string_view name, std::string_view value) {
            if (name == "client_address")
                fields.client_address = value;
            else if (name == "https")
                fields.https = value == "on";
            // Names a newer module sends are ignored.
            return std::string();
        });
    if (!error.empty()) return error;
    if (fields.client_address.empty()) return std::string("no client_address");
    return fields;
}

}  // namespace passenger::config

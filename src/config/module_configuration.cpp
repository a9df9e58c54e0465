#include "config/module_configuration.hpp"

#include "config/module_settings.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>

namespace passenger::config {
namespace {

// Takes one record off the front of `payload`; returns false when the rest is too short.
bool take_record(std::string_view& payload, std::string_view& record) {
    if (payload.size() < 4) return false;
    auto byte = [&](size_t i) { return uint32_t(static_cast<unsigned char>(payload[i])); };
    uint32_t length = (byte(0) << 24) | (byte(1) << 16) | (byte(2) << 8) | byte(3);
    if (payload.size() - 4 < length) return false;
    record = payload.substr(4, length);
    payload.remove_prefix(4 + length);
    return true;
}

std::optional<int> whole_number(std::string_view text) {
    int value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || value < 0) return std::nullopt;
    return value;
}

}  // namespace

std::variant<ModuleConfiguration, std::string> parse_module_configuration(
    std::string_view payload) {
    ModuleConfiguration configuration;
    std::string_view server_wide;
    if (!take_record(payload, server_wide)) return std::string("no http{} settings record");
    std::string error =
        for_each_setting_pair(server_wide, [&](std::string_view name, std::string_view value) {
            if (name == "pre_start") {
                configuration.pre_start.emplace_back(value);
                return std::string();
            }
            std::optional<int>* field = name == "log_level"        ? &configuration.log_level
                                        : name == "max_pool_size"  ? &configuration.max_pool_size
                                        : name == "pool_idle_time" ? &configuration.pool_idle_time
                                                                   : nullptr;
            if (field == nullptr) return std::string();  // a newer module's setting
            *field = whole_number(value);
            if (!*field) return fmt::format("{} '{}' is not a whole number", name, value);
            return std::string();
        });
    if (!error.empty()) return error;
    while (!payload.empty()) {
        std::string_view block;
        if (!take_record(payload, block)) return std::string("a settings block is truncated");
        // A location nested in a server repeats the server's block; one app, one entry.
        auto& blocks = configuration.app_blocks;
        if (std::find(blocks.begin(), blocks.end(), block) == blocks.end())
            blocks.emplace_back(block);
    }
    return configuration;
}

}  // namespace passenger::config

// The nginx module's configuration message (src/integrations/README.md, channel version 2):
// after each configuration cycle nginx completed, every app it configures (their settings blocks)
// and its http{} settings. The watchdog relays it to the core unread. Pure functions, no I/O.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace passenger::config {

// The first u32 of a configuration connection, where a request has its settings block's length
// (at most 256 KiB); and the largest message accepted.
inline constexpr uint32_t kConfigurationMarker = 0xFFFFFFFF;
inline constexpr size_t kMaxConfiguration = 16 * 1024 * 1024;

struct ModuleConfiguration {
    // http{} settings; absent when nginx has no http{} block any more.
    std::optional<int> log_level, max_pool_size, pool_idle_time;
    std::vector<std::string> pre_start;   // passenger_pre_start URLs
    std::vector<std::string> app_blocks;  // settings blocks, repeats removed, in nginx's order
};

// Records (u32 big-endian length + bytes): the http{} pairs (NAME NUL VALUE NUL), then one
// settings block per enabled location. Returns the message or why it is malformed.
std::variant<ModuleConfiguration, std::string> parse_module_configuration(std::string_view payload);

}  // namespace passenger::config

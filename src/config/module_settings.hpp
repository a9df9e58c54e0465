// The nginx module's blocks on the channel to the core (src/integrations/README.md): NAME NUL
// VALUE NUL pairs. The settings block (per location) becomes an object of settings in
// Passengerfile.json's shape, so the same code turns it into Options; the request block carries
// what only nginx knows about the request. Pure functions, no I/O.
#pragma once

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace passenger::config {

// Calls on_pair(name, value) for each NAME NUL VALUE NUL pair; stops at the first error it
// returns. Returns why the block is malformed (or on_pair's error), or "".
std::string for_each_setting_pair(
    std::string_view block,
    const std::function<std::string(std::string_view, std::string_view)>& on_pair);

// "app_root" (required), the Passengerfile.json settings ("min_instances": "2"; a switch is
// "true" or "false"), and "envvar" pairs whose value is NAME=VALUE (into "envvars"). Returns the
// settings object, or why the block is malformed.
std::variant<nlohmann::json, std::string> parse_settings_block(std::string_view block);

struct RequestFields {
    std::string client_address;  // the client nginx served (X-Forwarded-For)
    bool https = false;          // nginx received the request over TLS
};

std::variant<RequestFields, std::string> parse_request_fields(std::string_view block);

}  // namespace passenger::config

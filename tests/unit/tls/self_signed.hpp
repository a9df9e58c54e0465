// A server context with a self-signed EC certificate (CN localhost) that the openssl command
// makes in `dir` (site.crt, site.key), for the unit tests that make TLS connections.
#pragma once

#include "tls/credentials.hpp"

#include <fmt/format.h>

#include <cstdlib>
#include <string>
#include <variant>

namespace passenger::tls {

inline ContextResult self_signed_context(const std::string& dir) {
    std::string command = fmt::format(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "
        "-keyout {0}/site.key -out {0}/site.crt -days 1 -subj /CN=localhost 2>/dev/null",
        dir);
    if (std::system(command.c_str()) != 0)
        return {.context = nullptr, .error = "openssl req failed"};
    auto loaded = load_credentials(dir + "/site.crt", dir + "/site.key");
    if (auto* error = std::get_if<std::string>(&loaded))
        return {.context = nullptr, .error = *error};
    return make_server_context(std::get<Credentials>(loaded), {.tls1_2 = true, .tls1_3 = true});
}

}  // namespace passenger::tls

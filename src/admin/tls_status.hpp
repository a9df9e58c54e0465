// What the admin API says about --ssl (GET /tls): whether the instance serves HTTPS, the serial
// of the certificate new handshakes get, and how the latest reload (SIGHUP or
// `passenger-config reload-ssl`) went. Written by the core's credentials watch
// (server/tls_credentials_watch.hpp), read by the admin API on the same thread.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

namespace passenger::admin {

struct TlsStatus {
    bool serving = false;
    std::string certificate_serial;
    // Reloads answered since the core started, applied or refused: a tool that asked for one
    // waits for this to grow.
    uint64_t reloads = 0;
    std::string last_reload_error;  // "" when the latest reload was applied (or none happened)
};

inline void to_json(nlohmann::json& out, const TlsStatus& status) {
    out = {{"serving", status.serving},
           {"certificate_serial", status.certificate_serial},
           {"reloads", status.reloads},
           {"last_reload_error", status.last_reload_error}};
}

}  // namespace passenger::admin

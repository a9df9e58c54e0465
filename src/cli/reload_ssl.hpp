// passenger-config reload-ssl [--instance NAME]: what SIGHUP does for an instance started with
// --ssl (new handshakes use the certificate and key read again from their files), but it waits
// for the outcome and says it: the serial now served, or why the files did not load (the pair in
// use stays, exit 1).
#pragma once

#include "cli/inspection_options.hpp"

#include <string>

namespace passenger::cli {

int reload_ssl(const ConfigCommandLine& command_line, const std::string& registry);

}  // namespace passenger::cli

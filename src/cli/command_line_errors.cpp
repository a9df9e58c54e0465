#include "cli/command_line_errors.hpp"

#include <fmt/format.h>

namespace passenger::cli {

std::string describe_leftover_arguments(const std::vector<std::string>& leftovers) {
    if (leftovers.empty()) return {};
    const std::string& first = leftovers.front();
    if (first.starts_with('-') && first.size() > 1)
        return fmt::format("unknown option {}", first.substr(0, first.find('=')));
    return fmt::format("unexpected argument '{}'", first);
}

std::string describe_parse_error(const CLI::ParseError& error) {
    std::string message = error.what();
    if (size_t newline = message.find('\n'); newline != std::string::npos) message.resize(newline);
    // CLI11 says "--port: 1 required TEXT missing" when a value is missing; say it plainly.
    if (size_t required = message.find(": 1 required"); required != std::string::npos)
        return message.substr(0, required) + ": missing value";
    return message;
}

}  // namespace passenger::cli

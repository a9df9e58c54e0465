// CLI11 reports parse errors over several lines with hints; users of `passenger` get exactly one
// line naming the option. These helpers turn CLI11's leftovers and exceptions into that line.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace passenger::cli {

// The first word CLI11 could not place (an unknown option or a surplus argument), or "".
std::string describe_leftover_arguments(const std::vector<std::string>& leftovers);

// One line for a CLI11 parse error (not CallForHelp).
std::string describe_parse_error(const CLI::ParseError& error);

}  // namespace passenger::cli

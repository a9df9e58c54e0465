// The log file log::open opened (by common/safe_file's rules: root opens it in the app user's
// folder, where a new file becomes that user's), for what goes to it alone.
#pragma once

#include <string_view>

namespace passenger::log {

// Writes `text` verbatim to the log file only (the banner: the terminal gets its own copy).
void write_to_file(std::string_view text);

}  // namespace passenger::log

// Content-Type by file extension. Text types carry "; charset=utf-8".
#pragma once

#include <string_view>

namespace passenger::static_files {

inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";

// The Content-Type value for a file name or path ("css/site.CSS" → "text/css; charset=utf-8"),
// matched case-insensitively on the part after the last '.' of the last segment;
// kDefaultMimeType when there is no extension or it is unknown.
std::string_view mime_type_for(std::string_view path);

}  // namespace passenger::static_files

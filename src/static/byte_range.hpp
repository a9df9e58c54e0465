// Parses a Range header against a file size (RFC 9110 section 14). Only a single range is
// honoured; several ranges get the whole file (200), which the RFC allows.
#pragma once

#include <cstdint>
#include <string_view>

namespace passenger::static_files {

enum class RangeVerdict {
    kWhole,          // no usable Range (absent, malformed, other unit, several ranges): send 200
    kSatisfiable,    // send 206 with [first, last]
    kUnsatisfiable,  // send 416 with "Content-Range: bytes */size"
};

struct ByteRange {
    RangeVerdict verdict = RangeVerdict::kWhole;
    uint64_t first = 0;  // inclusive; meaningful only when kSatisfiable
    uint64_t last = 0;   // inclusive, always < size when kSatisfiable

    uint64_t length() const { return last - first + 1; }
};

// `header` is the Range value, e.g. "bytes=0-99", "bytes=500-", "bytes=-200".
ByteRange parse_byte_range(std::string_view header, uint64_t size);

}  // namespace passenger::static_files

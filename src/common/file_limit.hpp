// The core's open-file limit. Every client connection holds a descriptor, and every proxied
// request or tunnel one more to its app process (10,000 WebSockets take 20,000), so the core
// raises its soft limit to the hard one at start, and its app processes inherit that.
#pragma once

#include <sys/resource.h>

#include <string>
#include <system_error>

namespace passenger {

struct FileLimit {
    rlim_t before = 0;  // the soft limit the core started with
    rlim_t now = 0;     // the soft limit after raising it
    std::error_code error;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit (to fs.nr_open when the hard limit is
// unlimited, which the kernel refuses as a soft limit).
FileLimit raise_open_file_limit();

// One log line about it: "Open file limit: 20000 (raised from 1024, the hard limit)".
std::string describe(const FileLimit& limit);

// Whether an error means that the process or the system ran out of file descriptors.
bool is_out_of_descriptors(const std::error_code& error);

// What a log line says about running out: which limit, and what to do.
std::string out_of_descriptors_hint(const std::error_code& error);

}  // namespace passenger

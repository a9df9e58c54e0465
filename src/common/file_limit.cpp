#include "common/file_limit.hpp"

#include <fmt/format.h>
#include <asio/error_code.hpp>

#include <cerrno>
#include <fstream>

namespace passenger {
namespace {

rlim_t largest_allowed_soft_limit(rlim_t hard) {
    if (hard != RLIM_INFINITY) return hard;
    rlim_t nr_open = 1024 * 1024;  // the kernel's default for fs.nr_open
    std::ifstream("/proc/sys/fs/nr_open") >> nr_open;
    return nr_open;
}

}  // namespace

FileLimit raise_open_file_limit() {
    FileLimit result;
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
        result.error = std::error_code(errno, std::system_category());
        return result;
    }
    result.before = result.now = limit.rlim_cur;
    const rlim_t wanted = largest_allowed_soft_limit(limit.rlim_max);
    if (limit.rlim_cur >= wanted) return result;
    limit.rlim_cur = wanted;
    if (::setrlimit(RLIMIT_NOFILE, &limit) != 0) {
        result.error = std::error_code(errno, std::system_category());
        return result;
    }
    result.now = wanted;
    return result;
}

std::string describe(const FileLimit& limit) {
    if (limit.error) {
        return fmt::format("Open file limit: {} (could not raise it to the hard limit: {})",
                           limit.before, limit.error.message());
    }
    if (limit.now == limit.before)
        return fmt::format("Open file limit: {} (the hard limit)", limit.now);
    return fmt::format("Open file limit: {} (raised from {}, the hard limit)", limit.now,
                       limit.before);
}

bool is_out_of_descriptors(const std::error_code& error) {
    // By errno value: asio's system category maps EMFILE to std::errc but not ENFILE.
    const bool errno_category = error.category() == std::system_category() ||
                                error.category() == std::generic_category() ||
                                error.category() == asio::system_category();
    return errno_category && (error.value() == EMFILE || error.value() == ENFILE);
}

std::string out_of_descriptors_hint(const std::error_code& error) {
    if (error.value() == ENFILE)
        return "the system ran out of file descriptors (raise fs.file-max)";
    rlimit limit{};
    ::getrlimit(RLIMIT_NOFILE, &limit);
    return fmt::format("out of file descriptors: all {} allowed are open (raise `ulimit -n`)",
                       limit.rlim_cur);
}

}  // namespace passenger

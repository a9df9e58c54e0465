#include "common/file_limit.hpp"

#include <asio/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>

namespace passenger {
namespace {

TEST(FileLimit, RaisesTheSoftLimitToTheHardOne) {
    rlimit before{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &before), 0);
    FileLimit limit = raise_open_file_limit();
    EXPECT_FALSE(limit.error) << limit.error.message();
    EXPECT_EQ(limit.before, before.rlim_cur);
    rlimit after{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &after), 0);
    EXPECT_EQ(limit.now, after.rlim_cur);
    if (before.rlim_max != RLIM_INFINITY) {
        EXPECT_EQ(after.rlim_cur, before.rlim_max);
    }
    EXPECT_EQ(raise_open_file_limit().now, limit.now);  // a second call changes nothing
}

TEST(FileLimit, DescribesWhatItDid) {
    EXPECT_EQ(describe({.before = 1024, .now = 20000, .error = {}}),
              "Open file limit: 20000 (raised from 1024, the hard limit)");
    EXPECT_EQ(describe({.before = 64, .now = 64, .error = {}}),
              "Open file limit: 64 (the hard limit)");
    FileLimit failed{.before = 1024, .now = 1024, .error = {EPERM, std::system_category()}};
    EXPECT_EQ(describe(failed).rfind("Open file limit: 1024 (could not raise it", 0), 0u);
}

TEST(FileLimit, RecognizesRunningOutOfDescriptorsAsAsioReportsIt) {
    EXPECT_TRUE(is_out_of_descriptors(asio::error::no_descriptors));
    EXPECT_TRUE(is_out_of_descriptors(asio::error_code(ENFILE, asio::system_category())));
    EXPECT_TRUE(is_out_of_descriptors(std::make_error_code(std::errc::too_many_files_open)));
    EXPECT_FALSE(is_out_of_descriptors(asio::error::connection_refused));
    EXPECT_FALSE(is_out_of_descriptors(asio::error::eof));  // misc category, value 2
    EXPECT_NE(out_of_descriptors_hint(asio::error::no_descriptors).find("raise `ulimit -n`"),
              std::string::npos);
    EXPECT_NE(out_of_descriptors_hint(asio::error_code(ENFILE, asio::system_category()))
                  .find("fs.file-max"),
              std::string::npos);
}

}  // namespace
}  // namespace passenger

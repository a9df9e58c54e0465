#include "cli/front_end_flags.hpp"
#include "cli/start_options.hpp"
#include "config/option_values.hpp"

#include <gtest/gtest.h>

namespace passenger::cli {
namespace {

TEST(FrontEndFlags, DefaultsAreNginxs) {
    config::FrontEndOptions options = parse_start_options({}).options.front_end;
    EXPECT_EQ(options.client_max_body_size, 0u);
    EXPECT_EQ(options.client_max_header_size, 32u * 1024);
    EXPECT_EQ(options.client_max_header_line_size, 8192u);
    EXPECT_EQ(options.client_max_uri_size, 8192u);
    EXPECT_EQ(options.client_header_timeout_seconds, 60);
    EXPECT_EQ(options.keepalive_timeout_seconds, 75);
    EXPECT_EQ(options.send_timeout_seconds, 60);
    EXPECT_EQ(options.data_buffer_dir, "");
}

TEST(FrontEndFlags, ReadsEveryFlag) {
    StartCommandLine result = parse_start_options({
        "--client-max-body-size",
        "10m",
        "--client-max-header-size",
        "64k",
        "--client-max-header-line-size",
        "4k",
        "--client-max-header-count",
        "50",
        "--client-max-uri-size",
        "2048",
        "--client-body-buffer-size",
        "1k",
        "--response-buffer-size",
        "0",
        "--data-buffer-dir",
        "buffers",
        "--client-header-timeout",
        "5",
        "--client-body-timeout",
        "6",
        "--keepalive-timeout",
        "0",
        "--send-timeout",
        "8",
    });
    ASSERT_EQ(result.error, "");
    const config::FrontEndOptions& options = result.options.front_end;
    EXPECT_EQ(options.client_max_body_size, 10u << 20);
    EXPECT_EQ(options.client_max_header_size, 64u << 10);
    EXPECT_EQ(options.client_max_header_line_size, 4u << 10);
    EXPECT_EQ(options.client_max_header_count, 50u);
    EXPECT_EQ(options.client_max_uri_size, 2048u);
    EXPECT_EQ(options.client_body_buffer_size, 1024u);
    EXPECT_EQ(options.response_buffer_size, 0u);
    EXPECT_EQ(options.data_buffer_dir, "buffers");
    EXPECT_EQ(options.client_header_timeout_seconds, 5);
    EXPECT_EQ(options.client_body_timeout_seconds, 6);
    EXPECT_EQ(options.keepalive_timeout_seconds, 0);
    EXPECT_EQ(options.send_timeout_seconds, 8);
}

TEST(FrontEndFlags, BadValuesNameTheFlag) {
    EXPECT_EQ(parse_start_options({"--client-max-body-size", "lots"})
                  .error.rfind("--client-max-body-size: 'lots' is not a size", 0),
              0u);
    EXPECT_EQ(parse_start_options({"--send-timeout", "-1"}).error,
              "--send-timeout: '-1' is not a number of seconds >= 0");
    EXPECT_NE(parse_start_options({"--client-max-header-size", "10"}).error, "");
    EXPECT_NE(parse_start_options({"--client-max-header-count", "0"}).error, "");
    EXPECT_EQ(parse_start_options({"--data-buffer-dir", ""}).error,
              "--data-buffer-dir: must not be empty");
}

TEST(FrontEndFlags, DataBufferDirMustBeAFolder) {
    config::FrontEndOptions options;
    options.data_buffer_dir = "tmp";
    EXPECT_EQ(resolve_front_end_paths(options, "/"), "");
    EXPECT_EQ(options.data_buffer_dir, "/tmp");
    options.data_buffer_dir = "/nonexistent-passenger-dir";
    EXPECT_NE(resolve_front_end_paths(options, "/"), "");
    options.data_buffer_dir = "/etc/passwd";
    EXPECT_EQ(resolve_front_end_paths(options, "/"),
              "--data-buffer-dir /etc/passwd is not a folder");
}

TEST(ParseSize, SuffixesAndBounds) {
    using config::parse_size;
    EXPECT_EQ(std::get<uint64_t>(parse_size("0", 0, 100)), 0u);
    EXPECT_EQ(std::get<uint64_t>(parse_size("8k", 0, 1 << 20)), 8192u);
    EXPECT_EQ(std::get<uint64_t>(parse_size("2M", 0, 1 << 30)), 2u << 20);
    EXPECT_EQ(std::get<uint64_t>(parse_size("1g", 0, uint64_t(1) << 40)), 1u << 30);
    for (const char* text : {"", "k", "1.5m", "-1", "1kb", "12 ", "999999999999999999999g"})
        EXPECT_TRUE(std::holds_alternative<std::string>(parse_size(text, 0, 1 << 30))) << text;
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_size("2g", 0, 1 << 30)));
    EXPECT_TRUE(std::holds_alternative<std::string>(parse_size("10", 64, 100)));
}

}  // namespace
}  // namespace passenger::cli

#include "cli/inspection_options.hpp"

#include <gtest/gtest.h>

namespace passenger::cli {
namespace {

TEST(StatusOptions, Defaults) {
    StatusCommandLine line = parse_status_options({});
    EXPECT_EQ(line.error, "");
    EXPECT_EQ(line.show, "pool");
    EXPECT_EQ(line.instance, "");
}

TEST(StatusOptions, InstanceAndShowInBothSpellings) {
    StatusCommandLine line = parse_status_options({"abc123", "--show=requests"});
    EXPECT_EQ(line.error, "");
    EXPECT_EQ(line.instance, "abc123");
    EXPECT_EQ(line.show, "requests");
    EXPECT_EQ(parse_status_options({"--show", "metrics"}).show, "metrics");
    EXPECT_EQ(parse_status_options({"--show=json"}).show, "json");
    EXPECT_EQ(parse_status_options({"--instance-registry-dir", "/r"}).registry_dir, "/r");
}

TEST(StatusOptions, BadInputIsOneLine) {
    EXPECT_EQ(parse_status_options({"--show=xml"}).error,
              "--show: 'xml' is not one of pool, requests, json, metrics");
    EXPECT_NE(parse_status_options({"--bogus"}).error, "");
    EXPECT_NE(parse_status_options({"a", "b"}).error, "");
    EXPECT_EQ(parse_status_options({"--instance-registry-dir", ""}).error,
              "--instance-registry-dir: must not be empty");
    for (const auto& args : {std::vector<std::string>{"--bogus"}, {"a", "b"}, {"--show"}}) {
        std::string error = parse_status_options(args).error;
        EXPECT_EQ(error.find('\n'), std::string::npos) << error;
    }
}

TEST(StatusOptions, HelpAndVersion) {
    EXPECT_NE(parse_status_options({"--help"}).help.find("--show"), std::string::npos);
    EXPECT_TRUE(parse_status_options({"--version"}).version);
}

TEST(MemoryStatsOptions, NoArgumentsNeeded) {
    EXPECT_EQ(parse_memory_stats_options({}).error, "");
    EXPECT_NE(parse_memory_stats_options({"extra"}).error, "");
    EXPECT_NE(parse_memory_stats_options({"-h"}).help, "");
}

TEST(ConfigOptions, RestartApp) {
    ConfigCommandLine line = parse_config_options({"restart-app"});
    EXPECT_EQ(line.error, "");
    EXPECT_EQ(line.command, "restart-app");
    EXPECT_EQ(line.app_root, "");
    line = parse_config_options({"restart-app", "/srv/app", "--instance", "abc"});
    EXPECT_EQ(line.error, "");
    EXPECT_EQ(line.app_root, "/srv/app");
    EXPECT_EQ(line.instance, "abc");
    EXPECT_EQ(parse_config_options({"restart-app", "--instance", ""}).error,
              "--instance: must not be empty");
    EXPECT_NE(parse_config_options({"restart-app", "a", "b"}).error, "");
}

TEST(ConfigOptions, ListInstances) {
    ConfigCommandLine line = parse_config_options({"list-instances", "--json"});
    EXPECT_EQ(line.error, "");
    EXPECT_EQ(line.command, "list-instances");
    EXPECT_TRUE(line.json);
    EXPECT_NE(parse_config_options({"list-instances", "/srv/app"}).error, "");
}

TEST(ConfigOptions, VersionHelpAndMistakes) {
    EXPECT_TRUE(parse_config_options({"--version"}).version);
    EXPECT_NE(parse_config_options({"--help"}).help.find("restart-app"), std::string::npos);
    EXPECT_NE(parse_config_options({"restart-app", "--help"}).help.find("APP_ROOT"),
              std::string::npos);
    EXPECT_EQ(parse_config_options({}).error,
              "a command is required (see passenger-config --help)");
    EXPECT_EQ(parse_config_options({"frobnicate"}).error,
              "unknown command 'frobnicate' (see passenger-config --help)");
    EXPECT_EQ(parse_config_options({"--frob"}).error,
              "unknown option --frob (see passenger-config --help)");
}

}  // namespace
}  // namespace passenger::cli

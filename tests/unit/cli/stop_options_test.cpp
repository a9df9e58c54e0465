#include "cli/stop_options.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace passenger::cli {
namespace {

TEST(StopOptions, DefaultsToPort3000InTheCurrentFolder) {
    StopCommandLine command_line = parse_stop_options({});
    ASSERT_EQ(command_line.error, "");
    std::string error;
    EXPECT_EQ(resolve_stop_pid_file(command_line, "/tmp", error), "/tmp/passenger.3000.pid");
    EXPECT_EQ(error, "");
}

TEST(StopOptions, FindsTheFileStartWouldWriteInTmpPids) {
    char pattern[] = "/tmp/stop_options_XXXXXX";
    std::string app = ::mkdtemp(pattern);
    std::filesystem::create_directories(app + "/tmp/pids");
    StopCommandLine command_line = parse_stop_options({app, "--port", "3001"});
    ASSERT_EQ(command_line.error, "");
    std::string error;
    EXPECT_EQ(resolve_stop_pid_file(command_line, "/", error),
              app + "/tmp/pids/passenger.3001.pid");
    std::filesystem::remove_all(app);
}

TEST(StopOptions, APassengerfilePortIsUsedUnlessThePortIsGiven) {
    char pattern[] = "/tmp/stop_options_XXXXXX";
    std::string app = ::mkdtemp(pattern);
    std::ofstream(app + "/Passengerfile.json") << R"({"port": 4123})";
    std::string error;
    EXPECT_EQ(resolve_stop_pid_file(parse_stop_options({app}), "/", error),
              app + "/passenger.4123.pid");
    EXPECT_EQ(error, "");
    EXPECT_EQ(resolve_stop_pid_file(parse_stop_options({app, "--port", "3001"}), "/", error),
              app + "/passenger.3001.pid");
    std::ofstream(app + "/Passengerfile.json") << R"({"port": "none"})";
    resolve_stop_pid_file(parse_stop_options({app}), "/", error);
    EXPECT_EQ(error.rfind("Passengerfile.json: port: ", 0), 0u) << error;
    std::filesystem::remove_all(app);
}

TEST(StopOptions, PidFileWinsAndIsMadeAbsolute) {
    StopCommandLine command_line = parse_stop_options({"--port", "4000", "--pid-file", "x.pid"});
    ASSERT_EQ(command_line.error, "");
    std::string error;
    EXPECT_EQ(resolve_stop_pid_file(command_line, "/srv", error), "/srv/x.pid");
}

TEST(StopOptions, BadInputIsOneLine) {
    EXPECT_EQ(parse_stop_options({"--port", "x"}).error,
              "--port: 'x' is not a port number (1-65535)");
    EXPECT_EQ(parse_stop_options({"--force"}).error, "unknown option --force");
    EXPECT_EQ(parse_stop_options({"a", "b"}).error, "unexpected argument 'b'");
    std::string error;
    resolve_stop_pid_file(parse_stop_options({"/nonexistent/app"}), "/", error);
    EXPECT_EQ(error, "app folder /nonexistent/app: No such file or directory");
}

TEST(StopOptions, HelpMentionsPidFile) {
    EXPECT_NE(parse_stop_options({"--help"}).help.find("--pid-file"), std::string::npos);
}

}  // namespace
}  // namespace passenger::cli

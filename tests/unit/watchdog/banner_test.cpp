#include "watchdog/banner.hpp"

#include <gtest/gtest.h>

namespace passenger::watchdog {
namespace {

config::Options app_options() {
    config::Options options;
    options.app_root = "/nonexistent/app";  // no tmp/pids or log/ folder: defaults in the root
    options.pid_file = "/nonexistent/app/passenger.3000.pid";
    options.log_file = "/nonexistent/app/passenger.3000.log";
    return options;
}

TEST(Banner, ForegroundTellsHowToStopWithCtrlC) {
    EXPECT_EQ(format_banner(app_options(), "unused"),
              "=============== Passenger Standalone web server started ===============\n"
              "PID file: /nonexistent/app/passenger.3000.pid\n"
              "Log file: /nonexistent/app/passenger.3000.log\n"
              "Environment: development\n"
              "Accessible via: http://0.0.0.0:3000/\n"
              "\n"
              "You can stop Passenger Standalone by pressing Ctrl-C.\n"
              "============================================================================="
              "==\n");
}

TEST(Banner, DaemonTellsTheStopCommand) {
    config::Options options = app_options();
    options.daemonize = true;
    std::string banner = format_banner(options, "passenger stop --port 3000");
    EXPECT_NE(banner.find("\nYou can stop it with: passenger stop --port 3000\n====="),
              std::string::npos)
        << banner;
}

TEST(StopCommand, InTheAppFolderOnlyThePortIsNeeded) {
    EXPECT_EQ(stop_command_for(app_options(), "/nonexistent/app"), "passenger stop --port 3000");
}

TEST(StopCommand, ElsewhereItNamesTheAppFolder) {
    EXPECT_EQ(stop_command_for(app_options(), "/home"),
              "passenger stop /nonexistent/app --port 3000");
}

TEST(StopCommand, AnExplicitPidFileIsPassedOnQuotedWhenNeeded) {
    config::Options options = app_options();
    options.pid_file = "/run/my app.pid";
    EXPECT_EQ(stop_command_for(options, "/home"),
              "passenger stop --port 3000 --pid-file '/run/my app.pid'");
}

}  // namespace
}  // namespace passenger::watchdog

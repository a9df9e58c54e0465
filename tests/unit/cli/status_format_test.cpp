#include "cli/status_format.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

namespace passenger::cli {
namespace {

// Formatting uses local time; the tests pin the zone.
class StatusFormat : public ::testing::Test {
  protected:
    void SetUp() override {
        const char* zone = std::getenv("TZ");
        saved_zone_ = zone ? std::optional<std::string>(zone) : std::nullopt;
        ::setenv("TZ", "UTC", 1);
        ::tzset();
    }
    void TearDown() override {
        if (saved_zone_)
            ::setenv("TZ", saved_zone_->c_str(), 1);
        else
            ::unsetenv("TZ");
        ::tzset();
    }
    std::optional<std::string> saved_zone_;
};

admin::Instance instance_named(std::string name, pid_t pid, int port, std::string root) {
    admin::Instance instance;
    instance.dir = "/tmp/passenger." + name;
    instance.properties.name = std::move(name);
    instance.properties.watchdog_pid = pid;
    instance.properties.port = port;
    instance.properties.app_roots = {std::move(root)};
    instance.properties.started_at = 1384462530;  // 2013-11-14 20:55:30 UTC
    return instance;
}

TEST(FormatDuration, LikePassenger) {
    EXPECT_EQ(format_duration(0), "0s");
    EXPECT_EQ(format_duration(9.9), "9s");
    EXPECT_EQ(format_duration(71), "1m 11s");
    EXPECT_EQ(format_duration(3600), "1h 0m 0s");
    EXPECT_EQ(format_duration(7384), "2h 3m 4s");
    EXPECT_EQ(format_duration(93784), "1d 2h 3m 4s");
    EXPECT_EQ(format_duration(-5), "0s");
}

TEST(FormatMegabytes, OneDecimal) {
    EXPECT_EQ(format_megabytes(0), "0.0 MB");
    EXPECT_EQ(format_megabytes(14336), "14.0 MB");
    EXPECT_EQ(format_megabytes(223642), "218.4 MB");
}

TEST_F(StatusFormat, TheTutorialsLayout) {
    admin::PoolSnapshot pool;
    pool.version = "0.1.0";
    pool.max_pool_size = 6;
    admin::GroupSnapshot group;
    group.app_root = "/Users/phusion/leaderboard";
    admin::ProcessSnapshot first;
    first.pid = 25024;
    first.state = "ready";
    first.processed = 1;
    first.uptime_seconds = 9.4;
    first.idle_seconds = 3.2;
    first.private_memory_kb = 14 * 1024 + 100;
    admin::ProcessSnapshot second = first;
    second.pid = 25025;
    second.processed = 0;
    second.sessions = 12;
    second.cpu_percent = 57.6;
    group.processes = {first, second};
    pool.groups = {group};

    std::string text =
        format_status(pool, instance_named("abc", 25019, 3000, group.app_root), 1384462700);
    EXPECT_EQ(text,
              "Version : 0.1.0\n"
              "Date    : 2013-11-14 20:58:20 +0000\n"
              "Instance: abc (Passenger Standalone, port 3000)\n"
              "----------- General information -----------\n"
              "Max pool size : 6\n"
              "Processes     : 2\n"
              "Requests in top-level queue : 0\n"
              "\n"
              "----------- Application groups -----------\n"
              "  App root: /Users/phusion/leaderboard\n"
              "  Requests in queue: 0\n"
              "  * PID: 25024   Sessions: 0       Processed: 1       Uptime: 9s\n"
              "    CPU: 0%      Memory  : 14M     Last used: 3s ago\n"
              "  * PID: 25025   Sessions: 12      Processed: 0       Uptime: 9s\n"
              "    CPU: 58%     Memory  : 14M     Last used: 3s ago\n"
              "\n");
}

TEST_F(StatusFormat, NamesTheIntegrationMode) {
    admin::PoolSnapshot pool;
    pool.version = "0.1.0";
    admin::Instance instance = instance_named("abc", 25019, 0, "/srv/app");
    instance.properties.integration_mode = "apache2";
    EXPECT_NE(format_status(pool, instance, 1384462700)
                  .find("Instance: abc (Passenger, Apache integration mode)\n"),
              std::string::npos);
    instance.properties.integration_mode = "nginx";
    EXPECT_NE(format_status(pool, instance, 1384462700)
                  .find("Instance: abc (Passenger, nginx integration mode)\n"),
              std::string::npos);
}

TEST_F(StatusFormat, ClientConnectionsAndRequestsByProtocol) {
    admin::PoolSnapshot pool;
    pool.protocols = {
        {"http/1.1", "http", 2, 30}, {"http/1.1", "https", 1, 8}, {"h2", "https", 1, 4}};
    std::string text = format_status(pool, instance_named("abc", 1, 3000, "/srv/app"), 0);
    EXPECT_NE(text.find("Requests in top-level queue : 0\n"
                        "Client connections : http 2, https 1, h2 1\n"
                        "Requests received  : http 30, https 8, h2 4\n"),
              std::string::npos)
        << text;
}

TEST_F(StatusFormat, ShowsStatesSpawningAndErrors) {
    admin::PoolSnapshot pool;
    admin::GroupSnapshot group;
    group.app_root = "/srv/app";
    group.spawning = 1;
    group.last_error = "exited with status 1";
    pool.groups = {group};
    std::string empty = format_status(pool, instance_named("a", 1, 1, "/srv/app"), 0);
    EXPECT_NE(empty.find("  Processes being started: 1\n"), std::string::npos);
    EXPECT_NE(empty.find("  Last error: exited with status 1\n"), std::string::npos);

    admin::ProcessSnapshot draining;
    draining.pid = 7;
    draining.state = "draining";
    pool.groups[0].processes = {draining};
    std::string text = format_status(pool, instance_named("a", 1, 1, "/srv/app"), 0);
    EXPECT_NE(text.find("    State: draining\n"), std::string::npos);
    EXPECT_EQ(text.find("Last error"), std::string::npos);
}

TEST_F(StatusFormat, InstanceTableAndHowToPick) {
    std::vector<admin::Instance> instances = {instance_named("abc", 100, 3000, "/srv/one"),
                                              instance_named("defgh", 200, 3001, "/srv/two")};
    std::string table = format_instance_table(instances);
    EXPECT_EQ(table, "Name       PID      Port   Started                   App root\n" +
                         std::string(78, '-') +
                         "\n"
                         "abc        100      3000   2013-11-14 20:55:30 +0000 /srv/one\n"
                         "defgh      200      3001   2013-11-14 20:55:30 +0000 /srv/two\n");
    std::string pick = format_pick_an_instance(instances, "passenger-status <NAME>");
    EXPECT_TRUE(pick.starts_with("It appears that multiple Passenger instances are running."));
    EXPECT_NE(pick.find("\n  passenger-status <NAME>\n"), std::string::npos);
    EXPECT_TRUE(pick.ends_with(table));
}

}  // namespace
}  // namespace passenger::cli

#include "spawn/app_command.hpp"

#include "../static/temp_tree.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <sstream>

namespace passenger::spawn {
namespace {

using static_files::testing::TempTree;
using Argv = std::vector<std::string>;

const std::string kLoaders = std::string(PASSENGER_SOURCE_ROOT) + "/loaders/";

AppDetection detected(const char* type, const char* file = "") {
    AppDetection app;
    app.app_type = type;
    app.startup_file = file;
    return app;
}

AppCommandPlaces places() {
    AppCommandPlaces result;
    result.socket_path = "/tmp/sockets/app-3.sock";
    result.port = 4567;
    return result;
}

TEST(AppCommand, NodeRackAndWsgiRunALoaderOnTheUnixSocket) {
    config::Options options;
    options.nodejs = "/opt/node";
    options.ruby = "ruby3.1";
    options.python = "/usr/bin/python3.11";

    AppCommand node = app_command(detected("node", "/srv/app/app.js"), options, places());
    EXPECT_EQ(node.argv, (Argv{"/opt/node", "--require", kLoaders + "node/listen_redirect.js",
                               "/srv/app/app.js"}));
    AppCommand rack = app_command(detected("rack", "/srv/app/config.ru"), options, places());
    EXPECT_EQ(rack.argv, (Argv{"ruby3.1", kLoaders + "ruby/rack_loader.rb", "/srv/app/config.ru"}));
    AppCommand wsgi =
        app_command(detected("wsgi", "/srv/app/passenger_wsgi.py"), options, places());
    EXPECT_EQ(wsgi.argv, (Argv{"/usr/bin/python3.11", kLoaders + "python/wsgi_loader.py",
                               "/srv/app/passenger_wsgi.py"}));
    for (const AppCommand* command : {&node, &rack, &wsgi}) {
        EXPECT_TRUE(command->app_socket);
        EXPECT_EQ(describe(command->endpoint), "unix:/tmp/sockets/app-3.sock");
    }
}

TEST(AppCommand, GenericRunsTheCommandThroughTheShellOnItsPort) {
    config::Options options;
    options.app_start_command = "exec python3 -m http.server $PORT";
    AppCommand generic = app_command(detected("generic"), options, places());
    EXPECT_EQ(generic.argv, (Argv{"/bin/sh", "-c", "exec python3 -m http.server $PORT"}));
    EXPECT_FALSE(generic.app_socket);
    EXPECT_EQ(describe(generic.endpoint), "127.0.0.1:4567");
}

TEST(AppCommand, MeteorRunsMeteorRunOnItsPort) {
    config::Options options;
    AppCommand development = app_command(detected("meteor"), options, places());
    EXPECT_EQ(development.argv, (Argv{"meteor", "run", "--port", "4567"}));
    EXPECT_FALSE(development.app_socket);
    EXPECT_EQ(describe(development.endpoint), "127.0.0.1:4567");

    options.environment = "production";
    AppCommandPlaces with_settings = places();
    with_settings.meteor_settings_file = "/srv/app/settings.json";
    EXPECT_EQ(app_command(detected("meteor"), options, with_settings).argv,
              (Argv{"meteor", "run", "--port", "4567", "--production", "--settings",
                    "/srv/app/settings.json"}));
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

TEST(AppCommand, MeteorSettingsComeFromTheOptionElseFromMeteorSettings) {
    TempTree tree;
    std::string scratch = tree.path("meteor-settings-0.json").string();
    config::Options options;

    MeteorSettings none = prepare_meteor_settings(options, std::nullopt, scratch);
    EXPECT_EQ(none.file, "");
    EXPECT_EQ(none.error, "");
    EXPECT_EQ(prepare_meteor_settings(options, std::string(), scratch).file, "");

    MeteorSettings from_variable =
        prepare_meteor_settings(options, std::string(R"({"public":{"a":1}})"), scratch);
    EXPECT_EQ(from_variable.error, "");
    EXPECT_EQ(from_variable.file, scratch);
    EXPECT_EQ(read_file(scratch), R"({"public":{"a":1}})");
    struct stat info {};
    ASSERT_EQ(::stat(scratch.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0600u) << "settings may hold secrets";

    options.meteor_app_settings = "/srv/app/settings.json";
    EXPECT_EQ(prepare_meteor_settings(options, std::string("{}"), scratch).file,
              "/srv/app/settings.json");

    options.meteor_app_settings.clear();
    MeteorSettings unwritable =
        prepare_meteor_settings(options, std::string("{}"), tree.path("no/such/dir").string());
    EXPECT_EQ(unwritable.file, "");
    EXPECT_NE(unwritable.error.find("cannot write METEOR_SETTINGS"), std::string::npos);
}

TEST(AppCommand, DescribeJoinsTheArguments) {
    EXPECT_EQ(describe_command({"meteor", "run", "--port", "1"}), "meteor run --port 1");
}

}  // namespace
}  // namespace passenger::spawn

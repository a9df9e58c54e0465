#include "spawn/app_detection.hpp"

#include "../static/temp_tree.hpp"

#include <gtest/gtest.h>

namespace passenger::spawn {
namespace {

using static_files::testing::TempTree;

constexpr const char* kRack = "config.ru";
constexpr const char* kWsgi = "passenger_wsgi.py";
constexpr const char* kNode = "app.js";

config::Options options_for(const TempTree& tree) {
    config::Options options;
    options.app_root = tree.root().string();
    return options;
}

void write_all_markers(const TempTree& tree) {
    tree.write(kRack, "run ->(env) {}\n");
    tree.write(kWsgi, "application = None\n");
    tree.mkdir(".meteor");
    tree.write(kNode, "\n");
}

TEST(AppDetection, NothingStartableNamesEverythingLookedFor) {
    TempTree tree;
    tree.write("README", "not an app\n");
    AppDetection result = detect_app(options_for(tree));
    EXPECT_EQ(result.app_type, "");
    for (const char* looked :
         {kRack, kWsgi, ".meteor/", kNode, "--app-start-command", "--startup-file"}) {
        EXPECT_NE(result.error.find(looked), std::string::npos) << looked << ": " << result.error;
    }
    EXPECT_NE(result.error.find(tree.root().string()), std::string::npos);
}

TEST(AppDetection, FirstMatchWinsInPassengersOrder) {
    TempTree tree;
    write_all_markers(tree);
    config::Options options = options_for(tree);
    AppDetection rack = detect_app(options);
    EXPECT_EQ(rack.app_type, "rack");
    EXPECT_EQ(rack.startup_file, tree.path(kRack).string());

    std::filesystem::remove(tree.path(kRack));
    AppDetection wsgi = detect_app(options);
    EXPECT_EQ(wsgi.app_type, "wsgi");
    EXPECT_EQ(wsgi.startup_file, tree.path(kWsgi).string());

    std::filesystem::remove(tree.path(kWsgi));
    AppDetection meteor = detect_app(options);
    EXPECT_EQ(meteor.app_type, "meteor");
    EXPECT_EQ(meteor.startup_file, "");

    std::filesystem::remove(tree.path(".meteor"));
    AppDetection node = detect_app(options);
    EXPECT_EQ(node.app_type, "node");
    EXPECT_EQ(node.startup_file, tree.path(kNode).string());
}

TEST(AppDetection, AFileNamedMeteorIsNotAMeteorApp) {
    TempTree tree;
    tree.write(".meteor", "a file, not a folder\n");
    EXPECT_EQ(detect_app(options_for(tree)).app_type, "");
}

TEST(AppDetection, AppTypeOverridesTheFiles) {
    TempTree tree;
    write_all_markers(tree);
    config::Options options = options_for(tree);
    for (const char* type : {"node", "rack", "wsgi", "meteor"}) {
        options.app_type = type;
        EXPECT_EQ(detect_app(options).app_type, type);
    }
    options.app_type = "node";
    options.startup_file = "main.js";
    tree.write("main.js", "\n");
    AppDetection bundle = detect_app(options);
    EXPECT_EQ(bundle.app_type, "node");
    EXPECT_EQ(bundle.startup_file, tree.path("main.js").string());
}

TEST(AppDetection, ExplicitOptionsDecideWithoutAppType) {
    TempTree tree;
    write_all_markers(tree);
    tree.write("other.ru", "\n");
    tree.write("other.py", "\n");
    tree.write("server.js", "\n");
    config::Options options = options_for(tree);

    options.app_start_command = "python3 -m http.server $PORT";
    AppDetection generic = detect_app(options);
    EXPECT_EQ(generic.app_type, "generic");
    EXPECT_EQ(generic.startup_file, "");
    options.app_start_command.clear();

    options.rackup = "other.ru";
    EXPECT_EQ(detect_app(options).startup_file, tree.path("other.ru").string());
    options.rackup.clear();

    options.startup_file = "other.py";
    EXPECT_EQ(detect_app(options).app_type, "wsgi");
    options.startup_file = "other.ru";
    EXPECT_EQ(detect_app(options).app_type, "rack");
    options.startup_file = "server.js";
    EXPECT_EQ(detect_app(options).app_type, "node");
    options.startup_file = tree.path("server.js").string();  // absolute
    EXPECT_EQ(detect_app(options).startup_file, tree.path("server.js").string());
}

TEST(AppDetection, MissingFilesAreNamed) {
    TempTree tree;
    config::Options options = options_for(tree);
    options.rackup = "missing.ru";
    EXPECT_NE(detect_app(options).error.find(tree.path("missing.ru").string()), std::string::npos);
    options.rackup.clear();

    options.app_type = "rack";
    AppDetection rack = detect_app(options);
    EXPECT_NE(rack.error.find("config.ru does not exist"), std::string::npos) << rack.error;
    EXPECT_NE(rack.error.find("--rackup"), std::string::npos) << rack.error;

    options.app_type = "wsgi";
    EXPECT_NE(detect_app(options).error.find("passenger_wsgi.py does not exist"),
              std::string::npos);
    options.app_type = "node";
    EXPECT_NE(detect_app(options).error.find("app.js does not exist"), std::string::npos);
}

TEST(AppDetection, MeteorNeedsItsFolderAndAnExistingSettingsFile) {
    TempTree tree;
    config::Options options = options_for(tree);
    options.app_type = "meteor";
    AppDetection bundle = detect_app(options);
    EXPECT_EQ(bundle.app_type, "");
    EXPECT_NE(bundle.error.find("--app-type node --startup-file main.js"), std::string::npos)
        << bundle.error;

    tree.mkdir(".meteor");
    options.meteor_app_settings = tree.path("settings.json").string();
    EXPECT_NE(detect_app(options).error.find("--meteor-app-settings"), std::string::npos);
    tree.write("settings.json", "{}");
    EXPECT_EQ(detect_app(options).app_type, "meteor");
}

TEST(AppDetection, GenericNeedsACommandAndUnknownTypesAreRefused) {
    TempTree tree;
    config::Options options = options_for(tree);
    options.app_type = "generic";
    EXPECT_NE(detect_app(options).error.find("--app-start-command"), std::string::npos);
    options.app_type = "cobol";
    EXPECT_EQ(detect_app(options).error,
              "unsupported app type 'cobol' (supported: node, rack, wsgi, meteor, generic)");
}

TEST(AppDetection, OnlyRackAndWsgiServeOneRequestAtATime) {
    EXPECT_EQ(default_max_concurrent_requests("rack"), 1);
    EXPECT_EQ(default_max_concurrent_requests("wsgi"), 1);
    for (const char* type : {"node", "meteor", "generic"})
        EXPECT_EQ(default_max_concurrent_requests(type), 0) << type;
}

}  // namespace
}  // namespace passenger::spawn

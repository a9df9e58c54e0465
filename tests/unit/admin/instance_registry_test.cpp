#include "admin/instance_registry.hpp"

#include "../dead_pid.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

namespace passenger::admin {
namespace {

class InstanceRegistry : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/instance_registry_XXXXXX";
        registry_ = ::mkdtemp(pattern);
    }
    void TearDown() override { std::filesystem::remove_all(registry_); }

    // Properties of an instance whose watchdog is this test process.
    InstanceProperties ours() const {
        InstanceProperties properties;
        properties.version = "1.2.3";
        properties.watchdog_pid = ::getpid();
        properties.watchdog_start_ticks = process_start_ticks(::getpid()).value_or(0);
        properties.core_pid = ::getpid();
        properties.uid = ::geteuid();
        properties.port = 3000;
        properties.app_roots = {"/srv/app"};
        return properties;
    }

    Instance registered(InstanceProperties properties) {
        auto result = register_instance(registry_, std::move(properties));
        if (auto* error = std::get_if<std::string>(&result)) ADD_FAILURE() << *error;
        return std::get<Instance>(result);
    }

    std::string registry_;
};

TEST_F(InstanceRegistry, RegisteredInstanceIsListedWithItsProperties) {
    Instance instance = registered(ours());
    EXPECT_EQ(instance.dir, registry_ + "/passenger." + instance.properties.name);
    EXPECT_EQ(instance.admin_socket(), instance.dir + "/admin.sock");
    EXPECT_GT(instance.properties.started_at, 0);

    std::vector<Instance> listed = list_instances(registry_);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].dir, instance.dir);
    EXPECT_EQ(listed[0].properties.name, instance.properties.name);
    EXPECT_EQ(listed[0].properties.port, 3000);
    EXPECT_EQ(listed[0].properties.version, "1.2.3");
    EXPECT_EQ(listed[0].properties.app_roots, std::vector<std::string>{"/srv/app"});
}

TEST_F(InstanceRegistry, EntryIsReadableByOthersButCreatedFresh) {
    Instance instance = registered(ours());
    struct stat info {};
    ASSERT_EQ(::stat(instance.dir.c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0755u);
    ASSERT_EQ(::stat((instance.dir + "/properties.json").c_str(), &info), 0);
    EXPECT_EQ(info.st_mode & 0777, 0644u);
}

TEST_F(InstanceRegistry, ANewCoreOfTheSameWatchdogTakesTheEntryOver) {
    Instance first = registered(ours());
    std::ofstream(first.admin_socket()) << "old socket";
    InstanceProperties next = ours();
    next.core_pid = 4242;
    Instance second = registered(next);
    EXPECT_EQ(second.dir, first.dir);
    EXPECT_EQ(second.properties.name, first.properties.name);
    EXPECT_EQ(second.properties.started_at, first.properties.started_at);
    EXPECT_FALSE(std::filesystem::exists(first.admin_socket()));
    ASSERT_EQ(list_instances(registry_).size(), 1u);
    EXPECT_EQ(list_instances(registry_)[0].properties.core_pid, 4242);
}

TEST_F(InstanceRegistry, StaleEntriesAreIgnoredAndRemoved) {
    Instance live = registered(ours());
    InstanceProperties gone = ours();
    gone.watchdog_pid = passenger::testing::dead_pid();
    Instance dead = registered(gone);
    // A reused pid: alive, but started at another time than the registered watchdog.
    InstanceProperties reused = ours();
    reused.watchdog_start_ticks += 1;
    Instance impostor = registered(reused);

    std::vector<Instance> listed = list_instances(registry_);
    ASSERT_EQ(listed.size(), 1u);
    EXPECT_EQ(listed[0].dir, live.dir);
    EXPECT_FALSE(std::filesystem::exists(dead.dir));
    EXPECT_FALSE(std::filesystem::exists(impostor.dir));
}

TEST_F(InstanceRegistry, AnEntryBeingCreatedIsSkippedButKept) {
    std::filesystem::create_directory(registry_ + "/passenger.young");
    std::ofstream(registry_ + "/passenger.broken/properties.json") << "{";
    EXPECT_TRUE(list_instances(registry_).empty());
    EXPECT_TRUE(std::filesystem::exists(registry_ + "/passenger.young"));
}

TEST_F(InstanceRegistry, AnOldEntryWithoutPropertiesIsRemoved) {
    std::string dir = registry_ + "/passenger.abandoned";
    std::filesystem::create_directory(dir);
    std::filesystem::last_write_time(
        dir, std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
    EXPECT_TRUE(list_instances(registry_).empty());
    EXPECT_FALSE(std::filesystem::exists(dir));
}

TEST_F(InstanceRegistry, OtherFilesAndSymlinksAreNoEntries) {
    std::ofstream(registry_ + "/passenger.file") << "x";
    std::filesystem::create_directory_symlink("/", registry_ + "/passenger.link");
    std::filesystem::create_directory(registry_ + "/unrelated");
    EXPECT_TRUE(list_instances(registry_).empty());
    EXPECT_TRUE(std::filesystem::exists(registry_ + "/passenger.file"));
    EXPECT_TRUE(std::filesystem::is_symlink(registry_ + "/passenger.link"));
}

// Root lists (and cleans) other users' entries: a link one of them planted is not followed.
TEST_F(InstanceRegistry, RootDoesNotFollowALinkInAnotherUsersEntry) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (chown)";
    InstanceProperties claim = ours();
    claim.uid = 65534;  // nobody
    Instance instance = registered(claim);
    std::string properties = instance.dir + "/properties.json";
    std::filesystem::rename(properties, registry_ + "/elsewhere.json");
    std::filesystem::create_symlink(registry_ + "/elsewhere.json", properties);
    ASSERT_EQ(::lchown(properties.c_str(), 65534, 65534), 0);
    ASSERT_EQ(::chown(instance.dir.c_str(), 65534, 65534), 0);
    EXPECT_TRUE(list_instances(registry_).empty());
    EXPECT_TRUE(std::filesystem::exists(registry_ + "/elsewhere.json"));
}

TEST_F(InstanceRegistry, AnEntryClaimingAnotherUserIsNotTrusted) {
    InstanceProperties claim = ours();
    claim.uid = ::geteuid() + 1;
    registered(claim);
    EXPECT_TRUE(list_instances(registry_).empty());
}

TEST_F(InstanceRegistry, RemoveDeletesTheEntry) {
    Instance instance = registered(ours());
    std::ofstream(instance.admin_socket()) << "";
    remove_instance(instance.dir);
    EXPECT_FALSE(std::filesystem::exists(instance.dir));
}

TEST_F(InstanceRegistry, AMissingRegistryIsCreated) {
    std::string nested = registry_ + "/sub";
    auto result = register_instance(nested, ours());
    ASSERT_TRUE(std::holds_alternative<Instance>(result));
    EXPECT_EQ(list_instances(nested).size(), 1u);
}

TEST_F(InstanceRegistry, AnUnusableRegistryIsReportedInOneLine) {
    std::ofstream(registry_ + "/file") << "x";
    auto result = register_instance(registry_ + "/file", ours());
    ASSERT_TRUE(std::holds_alternative<std::string>(result));
    EXPECT_EQ(std::get<std::string>(result),
              "instance registry " + registry_ + "/file is not a folder");
}

TEST(RegistryDir, OptionThenVariableThenTmpdirThenTmp) {
    const char* saved_variable = std::getenv(kRegistryDirVariable);
    const char* saved_tmpdir = std::getenv("TMPDIR");
    std::string variable = saved_variable ? saved_variable : "";
    std::string tmpdir = saved_tmpdir ? saved_tmpdir : "";

    ::setenv(kRegistryDirVariable, "/from/variable", 1);
    ::setenv("TMPDIR", "/from/tmpdir", 1);
    EXPECT_EQ(registry_dir("/from/option"), "/from/option");
    EXPECT_EQ(registry_dir(""), "/from/variable");
    ::unsetenv(kRegistryDirVariable);
    EXPECT_EQ(registry_dir(""), "/from/tmpdir");
    ::unsetenv("TMPDIR");
    EXPECT_EQ(registry_dir(""), "/tmp");

    if (saved_variable) ::setenv(kRegistryDirVariable, variable.c_str(), 1);
    if (saved_tmpdir) ::setenv("TMPDIR", tmpdir.c_str(), 1);
}

TEST(ProcessStartTicks, KnowsLiveProcessesOnly) {
    EXPECT_TRUE(process_start_ticks(::getpid()).has_value());
    EXPECT_FALSE(process_start_ticks(passenger::testing::dead_pid()).has_value());
}

TEST(InstanceProperties, RoundTripThroughJson) {
    InstanceProperties properties;
    properties.name = "abc";
    properties.watchdog_pid = 10;
    properties.watchdog_start_ticks = 99;
    properties.core_pid = 11;
    properties.uid = 1000;
    properties.user = "deploy";
    properties.address = "127.0.0.1";
    properties.port = 8080;
    properties.app_roots = {"/a", "/b"};
    properties.started_at = 1700000000;
    InstanceProperties back = nlohmann::json(properties).get<InstanceProperties>();
    EXPECT_EQ(back.name, "abc");
    EXPECT_EQ(back.watchdog_start_ticks, 99u);
    EXPECT_EQ(back.core_pid, 11);
    EXPECT_EQ(back.uid, 1000u);
    EXPECT_EQ(back.user, "deploy");
    EXPECT_EQ(back.app_roots, (std::vector<std::string>{"/a", "/b"}));
    EXPECT_EQ(back.started_at, 1700000000);
}

}  // namespace
}  // namespace passenger::admin

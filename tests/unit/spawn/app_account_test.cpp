#include "spawn/app_account.hpp"

#include <gtest/gtest.h>

#include <map>

namespace passenger::spawn {
namespace {

// root (0/0), nobody (65534/nogroup 65534), alice (1001/1001), bob (1002/1002, also in group
// root's gid 0 as primary for `wheelbob`), and the groups behind them.
AccountDatabase table() {
    static const std::map<std::string, UserAccount> users = {
        {"root", {0, 0, "root", "/root", "/bin/bash"}},
        {"nobody", {65534, 65534, "nobody", "/nonexistent", "/usr/sbin/nologin"}},
        {"alice", {1001, 1001, "alice", "/home/alice", "/bin/bash"}},
        {"bob", {1002, 1002, "bob", "/home/bob", "/bin/sh"}},
        {"wheelbob", {1003, 0, "wheelbob", "/home/wheelbob", "/bin/sh"}},
        {"orphan", {1004, 4242, "orphan", "/home/orphan", "/bin/sh"}},
    };
    static const std::map<std::string, GroupAccount> groups = {
        {"root", {0, "root"}},  {"nogroup", {65534, "nogroup"}}, {"alice", {1001, "alice"}},
        {"bob", {1002, "bob"}}, {"staff", {50, "staff"}},
    };
    AccountDatabase accounts;
    accounts.user_by_name = [](const std::string& name) -> std::optional<UserAccount> {
        auto it = users.find(name);
        if (it == users.end()) return std::nullopt;
        return it->second;
    };
    accounts.user_by_id = [](uid_t uid) -> std::optional<UserAccount> {
        for (const auto& [name, user] : users)
            if (user.uid == uid) return user;
        return std::nullopt;
    };
    accounts.group_by_name = [](const std::string& name) -> std::optional<GroupAccount> {
        auto it = groups.find(name);
        if (it == groups.end()) return std::nullopt;
        return it->second;
    };
    accounts.group_by_id = [](gid_t gid) -> std::optional<GroupAccount> {
        for (const auto& [name, group] : groups)
            if (group.gid == gid) return group;
        return std::nullopt;
    };
    return accounts;
}

AppAccount resolved(const AccountRules& rules, uid_t owner) {
    auto result = resolve_app_account(rules, owner, table());
    if (auto* error = std::get_if<std::string>(&result)) ADD_FAILURE() << *error;
    return std::get<AppAccount>(result);
}

std::string error_of(const AccountRules& rules, uid_t owner) {
    auto result = resolve_app_account(rules, owner, table());
    if (std::holds_alternative<AppAccount>(result)) return "(no error)";
    return std::get<std::string>(result);
}

TEST(AppAccount, RunsAsTheOwnerWithTheOwnersPrimaryGroup) {
    AppAccount account = resolved({}, 1001);
    EXPECT_EQ(account.user.name, "alice");
    EXPECT_EQ(account.user.home, "/home/alice");
    EXPECT_EQ(account.user.shell, "/bin/bash");
    EXPECT_EQ(account.group.name, "alice");
}

TEST(AppAccount, AnAppOwnedByRootRunsAsTheDefaultUserAndItsPrimaryGroup) {
    AppAccount account = resolved({}, 0);
    EXPECT_EQ(account.user.name, "nobody");
    EXPECT_EQ(account.group.name, "nogroup");
}

TEST(AppAccount, DefaultUserAndGroupAreConfigurable) {
    AccountRules rules;
    rules.default_user = "bob";
    rules.default_group = "staff";
    AppAccount account = resolved(rules, 0);
    EXPECT_EQ(account.user.name, "bob");
    EXPECT_EQ(account.group.name, "staff");
}

TEST(AppAccount, PassengerUserAndGroupOverrideTheOwner) {
    AccountRules rules;
    rules.user = "bob";
    EXPECT_EQ(resolved(rules, 1001).user.name, "bob");
    EXPECT_EQ(resolved(rules, 1001).group.name, "bob");
    rules.group = "staff";
    EXPECT_EQ(resolved(rules, 1001).group.name, "staff");
    AccountRules group_only;
    group_only.group = "staff";
    EXPECT_EQ(resolved(group_only, 1001).user.name, "alice");
    EXPECT_EQ(resolved(group_only, 1001).group.name, "staff");
}

TEST(AppAccount, RootOnlyWhenADirectiveNamesIt) {
    AccountRules rules;
    rules.user = "root";
    EXPECT_EQ(resolved(rules, 1001).user.uid, 0u);
    EXPECT_EQ(resolved(rules, 1001).group.gid, 0u);
    AccountRules default_root;
    default_root.default_user = "root";
    EXPECT_EQ(resolved(default_root, 0).user.uid, 0u);
    // A user whose primary group is root gets the default group, not root's.
    EXPECT_EQ(resolved({}, 1003).user.name, "wheelbob");
    EXPECT_EQ(resolved({}, 1003).group.name, "nogroup");
    AccountRules group_root;
    group_root.group = "root";
    EXPECT_EQ(resolved(group_root, 1003).group.gid, 0u);
}

TEST(AppAccount, SwitchingOffRunsEveryAppAsTheDefaultUser) {
    AccountRules rules;
    rules.user_switching = false;
    rules.user = "bob";  // ignored, as in Passenger
    AppAccount account = resolved(rules, 1001);
    EXPECT_EQ(account.user.name, "nobody");
    EXPECT_EQ(account.group.name, "nogroup");
}

TEST(AppAccount, UnknownNamesAreOneLineNamingTheDirective) {
    AccountRules rules;
    rules.user = "nosuchuser";
    EXPECT_EQ(error_of(rules, 1001), "passenger_user nosuchuser: no such user");
    AccountRules group;
    group.group = "nosuchgroup";
    EXPECT_EQ(error_of(group, 1001), "passenger_group nosuchgroup: no such group");
    AccountRules default_user;
    default_user.default_user = "ghost";
    EXPECT_EQ(error_of(default_user, 0), "passenger_default_user ghost: no such user");
    // An app not owned by root does not need the default user.
    EXPECT_EQ(resolved(default_user, 1001).user.name, "alice");
    EXPECT_EQ(error_of({}, 777), "the app's owner (user id 777) has no account");
    EXPECT_EQ(error_of({}, 1004), "user orphan's primary group 4242 does not exist");
}

TEST(AppAccount, OwnerFileByAppType) {
    EXPECT_EQ(owner_file("node", "/srv/a", "/srv/a/main.js"), "/srv/a/main.js");
    EXPECT_EQ(owner_file("rack", "/srv/a", "/srv/a/config.ru"), "/srv/a/config.ru");
    EXPECT_EQ(owner_file("wsgi", "/srv/a", "/srv/a/passenger_wsgi.py"), "/srv/a/passenger_wsgi.py");
    EXPECT_EQ(owner_file("meteor", "/srv/a", ""), "/srv/a/.meteor");
    EXPECT_EQ(owner_file("generic", "/srv/a", ""), "/srv/a");
}

}  // namespace
}  // namespace passenger::spawn

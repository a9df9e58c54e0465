#include "spawn/app_account.hpp"

#include "spawn/app_detection.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>

namespace passenger::spawn {
namespace {

using Result = std::variant<AppAccount, std::string>;

std::variant<UserAccount, std::string> named_user(const AccountDatabase& accounts,
                                                  const std::string& name, const char* directive) {
    if (auto user = accounts.user_by_name(name)) return *user;
    return fmt::format("{} {}: no such user", directive, name);
}

std::variant<GroupAccount, std::string> named_group(const AccountDatabase& accounts,
                                                    const std::string& name,
                                                    const char* directive) {
    if (auto group = accounts.group_by_name(name)) return *group;
    return fmt::format("{} {}: no such group", directive, name);
}

std::variant<GroupAccount, std::string> primary_group(const AccountDatabase& accounts,
                                                      const UserAccount& user) {
    if (auto group = accounts.group_by_id(user.gid)) return *group;
    return fmt::format("user {}'s primary group {} does not exist", user.name, user.gid);
}

// passenger_default_user and passenger_default_group.
Result default_account(const AccountRules& rules, const AccountDatabase& accounts) {
    auto user = named_user(accounts, rules.default_user, "passenger_default_user");
    if (auto* error = std::get_if<std::string>(&user)) return *error;
    auto group = rules.default_group.empty()
                     ? primary_group(accounts, std::get<UserAccount>(user))
                     : named_group(accounts, rules.default_group, "passenger_default_group");
    if (auto* error = std::get_if<std::string>(&group)) return *error;
    return AppAccount{std::get<UserAccount>(user), std::get<GroupAccount>(group)};
}

}  // namespace

Result resolve_app_account(const AccountRules& rules, uid_t owner_uid,
                           const AccountDatabase& accounts) {
    if (!rules.user_switching) return default_account(rules, accounts);
    Result defaults = default_account(rules, accounts);

    UserAccount user;
    bool by_default = false;  // switching by owner failed: the defaults stand in for both
    if (!rules.user.empty()) {
        auto named = named_user(accounts, rules.user, "passenger_user");
        if (auto* error = std::get_if<std::string>(&named)) return *error;
        user = std::get<UserAccount>(named);
    } else if (owner_uid == 0) {
        // An app owned by root never runs as root by accident.
        if (auto* error = std::get_if<std::string>(&defaults)) return *error;
        user = std::get<AppAccount>(defaults).user;
        by_default = true;
    } else if (auto owner = accounts.user_by_id(owner_uid)) {
        user = *owner;
    } else {
        return fmt::format("the app's owner (user id {}) has no account", owner_uid);
    }

    GroupAccount group;
    if (!rules.group.empty()) {
        auto named = named_group(accounts, rules.group, "passenger_group");
        if (auto* error = std::get_if<std::string>(&named)) return *error;
        group = std::get<GroupAccount>(named);
    } else if (by_default) {
        group = std::get<AppAccount>(defaults).group;
    } else {
        auto primary = primary_group(accounts, user);
        if (auto* error = std::get_if<std::string>(&primary)) return *error;
        group = std::get<GroupAccount>(primary);
        // A root primary group (a user in group root) is not a directive naming root.
        if (group.gid == 0 && !(rules.user == user.name && user.uid == 0)) {
            if (auto* error = std::get_if<std::string>(&defaults)) return *error;
            group = std::get<AppAccount>(defaults).group;
        }
    }
    return AppAccount{user, group};
}

std::string owner_file(const std::string& app_type, const std::string& app_root,
                       const std::string& startup_file) {
    if (app_type == app_types::meteor) return app_root + "/.meteor";
    if (app_type == app_types::generic || startup_file.empty()) return app_root;
    return startup_file;
}

namespace {

std::optional<UserAccount> to_user(const passwd* entry) {
    if (entry == nullptr) return std::nullopt;
    return UserAccount{entry->pw_uid, entry->pw_gid, entry->pw_name, entry->pw_dir,
                       entry->pw_shell ? entry->pw_shell : ""};
}

std::optional<GroupAccount> to_group(const group* entry) {
    if (entry == nullptr) return std::nullopt;
    return GroupAccount{entry->gr_gid, entry->gr_name};
}

// One reentrant lookup (getpwnam_r & co) with a buffer of its own.
template <typename Entry, typename Key, typename Lookup>
const Entry* look_up(Key key, Lookup lookup, Entry& entry, std::vector<char>& buffer) {
    Entry* found = nullptr;
    buffer.resize(65536);
    lookup(key, &entry, buffer.data(), buffer.size(), &found);
    return found;
}

}  // namespace

AccountDatabase system_accounts() {
    AccountDatabase accounts;
    accounts.user_by_name = [](const std::string& name) {
        passwd entry{};
        std::vector<char> buffer;
        return to_user(look_up(name.c_str(), ::getpwnam_r, entry, buffer));
    };
    accounts.user_by_id = [](uid_t uid) {
        passwd entry{};
        std::vector<char> buffer;
        return to_user(look_up(uid, ::getpwuid_r, entry, buffer));
    };
    accounts.group_by_name = [](const std::string& name) {
        group entry{};
        std::vector<char> buffer;
        return to_group(look_up(name.c_str(), ::getgrnam_r, entry, buffer));
    };
    accounts.group_by_id = [](gid_t gid) {
        group entry{};
        std::vector<char> buffer;
        return to_group(look_up(gid, ::getgrgid_r, entry, buffer));
    };
    return accounts;
}

std::vector<gid_t> supplementary_groups(const UserAccount& user, gid_t gid) {
    int count = 32;
    std::vector<gid_t> groups(count);
    while (::getgrouplist(user.name.c_str(), gid, groups.data(), &count) < 0) {
        groups.resize(static_cast<size_t>(count) + 1);
        count = static_cast<int>(groups.size());
    }
    groups.resize(static_cast<size_t>(count));
    return groups;
}

}  // namespace passenger::spawn

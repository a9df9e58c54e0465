// Which user and group an app process runs as (automatic user switching, Passenger's rules),
// decided by the root spawn helper (spawn_helper) from the app's files and the directives. Pure:
// the accounts database is passed in, so the rules are unit-tested without real users.
//
// - user switching on: passenger_user if set, else the owner of the app's owner file (see
//   owner_file); passenger_group if set, else that user's primary group;
// - an app owned by root runs as passenger_default_user and passenger_default_group (unless
//   passenger_user / passenger_group say otherwise), and a root primary group becomes
//   passenger_default_group: an app runs as root only when a directive names root;
// - user switching off: passenger_default_user and passenger_default_group, always;
// - passenger_default_group empty: the default user's primary group (nogroup for nobody).
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace passenger::spawn {

struct UserAccount {
    uid_t uid = 0;
    gid_t gid = 0;  // primary group
    std::string name;
    std::string home;
    std::string shell;
};

struct GroupAccount {
    gid_t gid = 0;
    std::string name;
};

// The accounts database (getpwnam_r & co in the helper, a table in tests).
struct AccountDatabase {
    std::function<std::optional<UserAccount>(const std::string&)> user_by_name;
    std::function<std::optional<UserAccount>(uid_t)> user_by_id;
    std::function<std::optional<GroupAccount>(const std::string&)> group_by_name;
    std::function<std::optional<GroupAccount>(gid_t)> group_by_id;
};

// The account directives of one app (nginx: passenger_user_switching, passenger_user, ...).
struct AccountRules {
    bool user_switching = true;
    std::string user;                     // passenger_user; empty: the owner file's owner
    std::string group;                    // passenger_group; empty: the user's primary group
    std::string default_user = "nobody";  // passenger_default_user
    std::string default_group;            // passenger_default_group; empty: its primary group
};

struct AppAccount {
    UserAccount user;  // HOME, USER, LOGNAME and SHELL come from here
    GroupAccount group;
};

// `owner_uid`: the owner of the app's owner file (only read when switching by owner).
// Returns the account, or one line naming the directive or file at fault.
std::variant<AppAccount, std::string> resolve_app_account(const AccountRules& rules,
                                                          uid_t owner_uid,
                                                          const AccountDatabase& accounts);

// The file whose owner the app runs as: the startup file (node, rack, wsgi: `startup_file`,
// absolute, as app_detection found it), the `.meteor` folder of a Meteor app, the app root for
// a generic app (--app-start-command) and for anything else.
std::string owner_file(const std::string& app_type, const std::string& app_root,
                       const std::string& startup_file);

// The real accounts database (getpwnam_r, getpwuid_r, getgrnam_r, getgrgid_r).
AccountDatabase system_accounts();

// The supplementary groups of `user` with `gid` (getgrouplist), for setgroups in the child.
std::vector<gid_t> supplementary_groups(const UserAccount& user, gid_t gid);

}  // namespace passenger::spawn

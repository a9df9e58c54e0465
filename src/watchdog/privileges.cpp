#include "watchdog/privileges.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <vector>

namespace passenger::watchdog {
namespace {

struct Account {
    uid_t uid;
    gid_t gid;
    std::string name;
    std::string home;
};

std::optional<Account> find_account(const std::string& user) {
    std::vector<char> buffer(16384);
    passwd entry{};
    passwd* found = nullptr;
    if (::getpwnam_r(user.c_str(), &entry, buffer.data(), buffer.size(), &found) != 0 ||
        found == nullptr)
        return std::nullopt;
    return Account{found->pw_uid, found->pw_gid, found->pw_name, found->pw_dir};
}

}  // namespace

std::string check_user_switch(const std::string& user) {
    if (::geteuid() != 0) return "only root can run the app as another user";
    if (!find_account(user)) return fmt::format("no such user '{}'", user);
    return {};
}

std::string become_user(const std::string& user) {
    std::optional<Account> account = find_account(user);
    if (!account) return fmt::format("--user {}: no such user", user);
    // Groups first: once the user id is dropped, the group ids can no longer be changed.
    if (::initgroups(account->name.c_str(), account->gid) != 0 || ::setgid(account->gid) != 0 ||
        ::setuid(account->uid) != 0)
        return fmt::format("--user {}: cannot switch to it: {}", user, std::strerror(errno));
    // A process that could regain root would make the switch pointless.
    if (account->uid != 0 && ::setuid(0) == 0)
        return fmt::format("--user {}: root privileges could be regained", user);
    ::setenv("HOME", account->home.c_str(), 1);
    ::setenv("USER", account->name.c_str(), 1);
    ::setenv("LOGNAME", account->name.c_str(), 1);
    return {};
}

uid_t core_user_id(const std::string& user) {
    std::optional<Account> account = user.empty() ? std::nullopt : find_account(user);
    return account ? account->uid : ::geteuid();
}

}  // namespace passenger::watchdog

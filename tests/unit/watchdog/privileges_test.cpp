#include "watchdog/privileges.hpp"

#include <pwd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace passenger::watchdog {
namespace {

TEST(PrivilegesTest, AnUnknownUserIsNamedInTheError) {
    std::string error = check_user_switch("no-such-user-here");
    if (::geteuid() == 0) {
        EXPECT_EQ(error, "no such user 'no-such-user-here'");
    } else {
        EXPECT_EQ(error, "only root can run the app as another user");
    }
}

TEST(PrivilegesTest, RootMaySwitchToAnExistingUser) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    EXPECT_EQ(check_user_switch("nobody"), "");
}

// In a child process (the switch cannot be undone): becomes nobody and reports through its exit
// code whether ids, groups and environment are nobody's.
TEST(PrivilegesTest, BecomingAUserIsForGood) {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    const passwd* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    const uid_t uid = nobody->pw_uid;
    const gid_t gid = nobody->pw_gid;
    const std::string home = nobody->pw_dir;
    pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (!become_user("nobody").empty()) ::_exit(1);
        if (::getuid() != uid || ::geteuid() != uid || ::getgid() != gid) ::_exit(2);
        if (::setuid(0) == 0 || ::setgid(0) == 0) ::_exit(3);
        gid_t groups[64];
        int count = ::getgroups(64, groups);
        for (int i = 0; i < count; ++i)
            if (groups[i] == 0) ::_exit(4);  // root's group is gone too
        const char* user = std::getenv("USER");
        const char* env_home = std::getenv("HOME");
        if (user == nullptr || std::string(user) != "nobody") ::_exit(5);
        if (env_home == nullptr || home != env_home) ::_exit(6);
        ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "1 switch failed, 2 ids, 3 root regained, 4 groups, "
                                         "5 USER, 6 HOME";
}

}  // namespace
}  // namespace passenger::watchdog

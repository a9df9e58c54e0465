#include "watchdog/core_supervisor.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

namespace passenger::watchdog {
namespace {

int wait_status_of_child(void (*body)()) {
    pid_t child = ::fork();
    if (child == 0) body();
    int status = 0;
    ::waitpid(child, &status, 0);
    return status;
}

TEST(DescribeExit, NamesStatusOrSignal) {
    EXPECT_EQ(describe_exit(wait_status_of_child([] { ::_exit(3); })), "exited with status 3");
    EXPECT_EQ(describe_exit(wait_status_of_child([] {
                  ::kill(::getpid(), SIGKILL);
                  ::pause();
              })),
              "exited with signal 9");
}

}  // namespace
}  // namespace passenger::watchdog

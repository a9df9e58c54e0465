#include "common/exit_status.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

namespace passenger {
namespace {

int wait_status_of_child(void (*body)()) {
    pid_t child = ::fork();
    if (child == 0) body();
    int status = 0;
    ::waitpid(child, &status, 0);
    return status;
}

TEST(DescribeExit, NamesTheCodeOrTheSignal) {
    EXPECT_EQ(describe_exit(wait_status_of_child([] { ::_exit(3); })), "exited with code 3");
    EXPECT_EQ(describe_exit(wait_status_of_child([] {
                  ::kill(::getpid(), SIGKILL);
                  ::pause();
              })),
              "was killed by signal 9 (Killed)");
}

}  // namespace
}  // namespace passenger

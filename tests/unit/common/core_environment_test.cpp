#include "common/core_environment.hpp"

#include <gtest/gtest.h>

namespace passenger {
namespace {

TEST(CoreEnvironment, EveryPrivateVariableIsRecognized) {
    for (const char* entry :
         {"PASSENGER_CORE_OPTIONS={}", "PASSENGER_LISTEN_FD=3", "PASSENGER_READY_FD=4",
          "PASSENGER_WATCHDOG_PID=12", "PASSENGER_READY_FD="})
        EXPECT_TRUE(is_core_variable(entry)) << entry;
}

TEST(CoreEnvironment, OtherVariablesAreNot) {
    for (const char* entry : {"PASSENGER_APP_ENV=production", "PASSENGER_LISTEN_FD_X=3",
                              "PASSENGER_READY_FD", "PATH=/bin", "XPASSENGER_LISTEN_FD=3"})
        EXPECT_FALSE(is_core_variable(entry)) << entry;
}

}  // namespace
}  // namespace passenger

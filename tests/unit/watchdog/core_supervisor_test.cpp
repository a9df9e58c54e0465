#include "watchdog/core_supervisor.hpp"

#include "common/log.hpp"
#include "watchdog/listener.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>

namespace passenger::watchdog {
namespace {

// The supervisor blocks signals and reaps every child, so each scenario runs in a forked,
// single-threaded child process that reports back through a pipe: "<exit code> <startup error>".
class Supervision : public ::testing::Test {
  protected:
    void SetUp() override {
        char pattern[] = "/tmp/supervision_XXXXXX";
        folder_ = ::mkdtemp(pattern);
        options_.log_file = folder_ + "/passenger.log";
        options_.graceful_shutdown_seconds = 1;
        options_.app_stop_timeout_seconds = 1;
    }
    void TearDown() override { std::filesystem::remove_all(folder_); }

    // Runs a supervisor whose "core" is `sh -c script`; stops it when the first core is ready.
    std::string supervise(const std::string& script, bool stop_when_ready = true) {
        int report[2];
        EXPECT_EQ(::pipe(report), 0);
        pid_t child = ::fork();
        if (child == 0) {
            ::close(report[0]);
            log::open(options_.log_file, false);
            Listener listener = bind_listener("127.0.0.1", 0);
            SignalReceiver signals;
            CoreSupervisor supervisor(options_, listener.socket.get(), signals,
                                      {"/bin/sh", {"sh", "-c", script}});
            int code = supervisor.run({.on_first_ready =
                                           [&] {
                                               if (stop_when_ready) ::kill(::getpid(), SIGTERM);
                                           },
                                       .on_stopping = nullptr});
            std::string text = std::to_string(code) + " " + supervisor.startup_error();
            [[maybe_unused]] ssize_t ignored = ::write(report[1], text.data(), text.size());
            ::_exit(0);
        }
        ::close(report[1]);
        std::string text;
        char buffer[512];
        pollfd fd{report[0], POLLIN, 0};
        while (::poll(&fd, 1, 30000) > 0) {
            ssize_t length = ::read(report[0], buffer, sizeof buffer);
            if (length <= 0) break;
            text.append(buffer, static_cast<size_t>(length));
        }
        ::close(report[0]);
        ::kill(child, SIGKILL);  // only matters if it hung
        ::waitpid(child, nullptr, 0);
        return text;
    }

    std::string folder_;
    config::Options options_;
};

TEST_F(Supervision, CoreGetsTheSocketAtFd3AndTheReadinessPipeAtFd4) {
    std::string script =
        "[ \"$PASSENGER_LISTEN_FD\" = 3 ] && [ -S /proc/self/fd/3 ] && "
        "[ \"$PASSENGER_READY_FD\" = 4 ] && [ \"$PASSENGER_WATCHDOG_PID\" = \"$PPID\" ] && "
        "[ -n \"$PASSENGER_CORE_OPTIONS\" ] && printf 1 >&4; exec sleep 30";
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(supervise(script), "0 ");
    // Readiness came through the pipe, not the 5 s fallback; SIGTERM stopped the core.
    EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(4));
}

TEST_F(Supervision, OtherFdsAreNotInherited) {
    // The core must see only stdio, the socket and the readiness pipe.
    std::string script =
        "for fd in 5 6 7 8 9 10 11 12; do [ -e /proc/self/fd/$fd ] && exit 9; done; "
        "printf 1 >&4; exec sleep 30";
    EXPECT_EQ(supervise(script), "0 ");
}

TEST_F(Supervision, CoreThatDiesBeforeReadyIsAStartupError) {
    std::string outcome = supervise("exit 3");
    EXPECT_TRUE(outcome.starts_with("1 Core process ")) << outcome;
    EXPECT_TRUE(outcome.ends_with(" exited with code 3 before it was ready (see " +
                                  options_.log_file + ")"))
        << outcome;
}

TEST_F(Supervision, CrashedCoreIsRestarted) {
    std::string counter = folder_ + "/starts";
    // First core: ready, then killed. Second core: asks the watchdog to stop.
    std::string script = "n=$(cat " + counter + " 2>/dev/null || echo 0); echo $((n+1)) > " +
                         counter +
                         "; if [ $n = 0 ]; then printf 1 >&4; sleep 0.2; kill -9 $$; fi; "
                         "kill -TERM $PPID; exec sleep 30";
    EXPECT_EQ(supervise(script, false), "0 ");
    std::ifstream starts(counter);
    int count = 0;
    starts >> count;
    EXPECT_EQ(count, 2);
    std::ifstream log(options_.log_file);
    std::string contents((std::istreambuf_iterator<char>(log)), std::istreambuf_iterator<char>());
    EXPECT_NE(contents.find("was killed by signal 9 (Killed); restarting in 100 ms"),
              std::string::npos)
        << contents;
}

TEST_F(Supervision, CoreThatIgnoresTheReadinessPipeIsAssumedReadyAfterFiveSeconds) {
    auto started = std::chrono::steady_clock::now();
    EXPECT_EQ(supervise("exec sleep 30"), "0 ");
    EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
}

}  // namespace
}  // namespace passenger::watchdog

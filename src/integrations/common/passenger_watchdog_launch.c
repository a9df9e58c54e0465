/*
 * Starting the watchdog of integration mode (passenger_watchdog_launch.h). The watchdog gets two
 * pipes:
 *   fd 3, the lifeline: the server's parent holds the write end; end of file stops the watchdog
 *         gracefully, "s" stops it at once, "c" + frame is a configuration;
 *   fd 4, the report: "listening PATH\n" once the core's socket is bound, or "error MESSAGE\n".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* pipe2, close_range */
#endif
#include "passenger_watchdog_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REPORT_TIMEOUT_MS 30000

/* Puts `fd` at `target`, inheritable (dup2 onto itself would keep close-on-exec). */
static int move_fd(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

static void exec_watchdog(char* const argv[], int lifeline_reader, int report_writer,
                          int allow_root_apps, int quiet_stderr) {
    sigset_t all;
    int fd;

    /* The server's signal mask and handlers are not the watchdog's; neither are its other fds
     * (listening sockets above all: they must close when the server stops). */
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    for (fd = 1; fd < NSIG; fd++) signal(fd, SIG_DFL);
    setsid();
    /* The report pipe leaves fd 3 first, so that placing the lifeline there cannot close it. */
    if (report_writer == 3) {
        report_writer = dup(report_writer);
        if (report_writer < 0) _exit(127);
    }
    if (move_fd(lifeline_reader, 3) != 0 || move_fd(report_writer, 4) != 0) _exit(127);
    if (quiet_stderr) {
        fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) dup2(fd, 2);
    }
    if (close_range(5, ~0U, 0) != 0) {
        for (fd = 5; fd < 1024; fd++) close(fd);
    }
    /* The spawn helper runs no app as root unless the configuration named root: a core taken
     * over cannot ask for it (src/spawn/README.md). Read and removed by the core. */
    if (allow_root_apps) setenv("PASSENGER_ALLOW_ROOT_APPS", "1", 1);
    execv(argv[0], argv);
    dprintf(4, "error cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads the watchdog's one report line into `line` (NUL-terminated, without its newline). */
static int read_report(int fd, char* line, size_t size) {
    struct pollfd poller = {fd, POLLIN, 0};
    size_t used = 0;
    ssize_t n;

    while (used < size - 1) {
        if (poll(&poller, 1, REPORT_TIMEOUT_MS) <= 0) break;
        n = read(fd, line + used, size - 1 - used);
        if (n <= 0) break;
        used += n;
        if (memchr(line, '\n', used) != NULL) break;
    }
    line[used] = '\0';
    if (used > 0 && line[used - 1] == '\n') line[used - 1] = '\0';
    return used > 0;
}

int passenger_launch_watchdog(char* const argv[], int allow_root_apps, int quiet_stderr,
                              passenger_launch_t* result) {
    static const char listening[] = "listening /";
    int lifeline_pipe[2], report_pipe[2];
    char line[sizeof(result->line)];
    pid_t pid;

    result->pid = -1;
    result->lifeline = -1;
    if (pipe2(lifeline_pipe, O_CLOEXEC) != 0) {
        snprintf(result->line, sizeof(result->line), "pipe: %s", strerror(errno));
        return -1;
    }
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        snprintf(result->line, sizeof(result->line), "pipe: %s", strerror(errno));
        close(lifeline_pipe[0]);
        close(lifeline_pipe[1]);
        return -1;
    }
    pid = fork();
    if (pid == 0)
        exec_watchdog(argv, lifeline_pipe[0], report_pipe[1], allow_root_apps, quiet_stderr);
    close(lifeline_pipe[0]);
    close(report_pipe[1]);
    if (pid < 0) {
        snprintf(result->line, sizeof(result->line), "fork: %s", strerror(errno));
        close(lifeline_pipe[1]);
        close(report_pipe[0]);
        return -1;
    }
    if (!read_report(report_pipe[0], line, sizeof(line))) {
        snprintf(line, sizeof(line), "error it exited or did not answer");
    }
    close(report_pipe[0]);
    if (strncmp(line, listening, sizeof(listening) - 1) != 0) {
        snprintf(result->line, sizeof(result->line), "%s",
                 strncmp(line, "error ", 6) == 0 ? line + 6 : line);
        close(lifeline_pipe[1]); /* end of file: a watchdog that did start stops */
        kill(pid, SIGTERM);
        return -1;
    }
    snprintf(result->line, sizeof(result->line), "%s", line + 10);
    result->pid = pid;
    result->lifeline = lifeline_pipe[1];
    return 0;
}

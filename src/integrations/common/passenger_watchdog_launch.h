/*
 * Starting the watchdog of integration mode, shared by the nginx and Apache modules (plain POSIX,
 * no server types): fork, exec `PASSENGER_ROOT/bin/passenger nginx-watchdog|apache2-watchdog ...`
 * with the lifeline at fd 3 and the report pipe at fd 4 (src/integrations/README.md, "Lifetime"),
 * then wait for its report line.
 */
#ifndef PASSENGER_WATCHDOG_LAUNCH_H
#define PASSENGER_WATCHDOG_LAUNCH_H

#include <sys/types.h>

typedef struct {
    pid_t pid;
    int lifeline;   /* the write end, kept by the server's parent process */
    char line[256]; /* success: the core's socket path; failure: what went wrong */
} passenger_launch_t;

/* argv[0] is the executable. `allow_root_apps`: an account directive names root (the watchdog gets
 * PASSENGER_ALLOW_ROOT_APPS=1). `quiet_stderr`: the watchdog's stderr goes to /dev/null (it logs
 * to a file that is also the server's stderr). Returns 0 with pid, lifeline and the socket path,
 * or -1 with the reason in `line` (the watchdog, if it started, is told to stop). */
int passenger_launch_watchdog(char* const argv[], int allow_root_apps, int quiet_stderr,
                              passenger_launch_t* result);

#endif

/*
 * One watchdog (and through it one core) per Apache instance, started by the parent in
 * post_config and kept across graceful restarts. Apache unloads and loads the module again on
 * every restart, so nothing about the watchdog may live in the module's statics: its pid, the
 * lifeline and the core's socket path live in the process pool's userdata, which lasts as long as
 * the parent. The watchdog (`passenger apache2-watchdog`) gets two pipes:
 *   fd 3, the lifeline: the parent holds the write end (close-on-exec, closed in each child);
 *         end of file (Apache stopped, however) stops the watchdog gracefully, "c" + frame is a
 *         configuration (passenger_configuration.c);
 *   fd 4, the report: "listening PATH\n" once the core's socket is bound, or "error MESSAGE\n".
 */
#include "passenger_module.h"

#include "unixd.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_TIMEOUT_MS 30000
#define STATE_KEY "passenger_module watchdog"

typedef struct {
    pid_t pid;
    int lifeline; /* the write end, in the parent */
    char socket_path[108];
} watchdog_state_t;

static watchdog_state_t* state_of(server_rec* server) {
    void* state = NULL;

    apr_pool_userdata_get(&state, STATE_KEY, server->process->pool);
    if (state == NULL) {
        watchdog_state_t* fresh = apr_pcalloc(server->process->pool, sizeof(*fresh));
        fresh->pid = -1;
        fresh->lifeline = -1;
        apr_pool_userdata_set(fresh, STATE_KEY, apr_pool_cleanup_null, server->process->pool);
        state = fresh;
    }
    return state;
}

/* A child's copy of the core's socket path, taken once at its start: requests read it on many
 * threads without touching the process pool's userdata. */
static char child_socket_path[sizeof(((watchdog_state_t*)0)->socket_path)];

const char* passenger_core_socket_path(void) {
    return child_socket_path;
}

void passenger_init_child(server_rec* server) {
    watchdog_state_t* state = state_of(server);

    apr_cpystrn(child_socket_path, state->socket_path, sizeof(child_socket_path));
    if (state->lifeline >= 0) close(state->lifeline);
    state->lifeline = -1;
}

/* The main ErrorLog, unless it is a pipe or syslog (then the watchdog keeps Apache's stderr). */
static const char* apache_error_log(apr_pool_t* pool, server_rec* server) {
    const char* name = server->error_fname;

    if (name == NULL || name[0] == '|' || strncmp(name, "syslog", 6) == 0) return NULL;
    return ap_server_root_relative(pool, name);
}

/* argv of `passenger apache2-watchdog`: the server-wide settings as `passenger start` flags. */
static char** watchdog_argv(apr_pool_t* pool, server_rec* server, passenger_server_conf_t* conf) {
    apr_array_header_t* argv = apr_array_make(pool, 16, sizeof(char*));
    const char* log_file = conf->log_file ? conf->log_file : apache_error_log(pool, server);

#define ARG(value) (*(const char**)apr_array_push(argv) = (value))
    ARG(apr_pstrcat(pool, conf->root, "/bin/passenger", NULL));
    ARG("apache2-watchdog");
    ARG("--log-level");
    ARG(apr_itoa(pool, conf->log_level));
    ARG("--max-pool-size");
    ARG(apr_itoa(pool, conf->max_pool_size));
    ARG("--pool-idle-time");
    ARG(apr_itoa(pool, conf->pool_idle_time));
    if (log_file) {
        ARG("--log-file");
        ARG(log_file);
    }
    if (conf->instance_registry_dir) {
        ARG("--instance-registry-dir");
        ARG(conf->instance_registry_dir);
    }
    /* A root parent's children run as User; the core that reads their requests runs as that
     * user too, never as root. */
    if (geteuid() == 0 && ap_unixd_config.user_name != NULL && ap_unixd_config.user_id != 0) {
        ARG("--user");
        ARG(ap_unixd_config.user_name);
    }
    ARG(NULL);
#undef ARG
    return (char**)argv->elts;
}

static int has_log_file(char** argv) {
    for (; *argv; argv++) {
        if (strcmp(*argv, "--log-file") == 0) return 1;
    }
    return 0;
}

/* Puts `fd` at `target`, inheritable (dup2 onto itself would keep close-on-exec). */
static int move_fd(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

static void exec_watchdog(char** argv, int lifeline_reader, int report_writer, int root_apps,
                          int logs_to_file) {
    sigset_t all;
    int fd;

    /* Apache's signal mask and handlers are not the watchdog's; neither are its other fds
     * (listening sockets above all: they must close when Apache stops). */
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
    /* Apache's stderr is its error log: with a log file, lines written to both would show twice. */
    fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        if (logs_to_file) dup2(fd, 2);
    }
    if (close_range(5, ~0U, 0) != 0) {
        for (fd = 5; fd < 1024; fd++) close(fd);
    }
    /* The spawn helper runs no app as root unless the configuration named root (read and removed
     * by the core, src/spawn/README.md). */
    if (root_apps) setenv("PASSENGER_ALLOW_ROOT_APPS", "1", 1);
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

static int watchdog_alive(watchdog_state_t* state) {
    /* A watchdog that exited is Apache's child: reap it here if the MPM has not. */
    if (state->pid <= 0) return 0;
    if (waitpid(state->pid, NULL, WNOHANG) == state->pid) return 0;
    return kill(state->pid, 0) == 0;
}

apr_status_t passenger_ensure_watchdog(apr_pool_t* pconf, server_rec* server) {
    watchdog_state_t* state = state_of(server);
    passenger_server_conf_t* conf = passenger_server_conf();
    int lifeline_pipe[2], report_pipe[2];
    char line[256];
    char** argv;
    pid_t pid;

    if (watchdog_alive(state)) return APR_SUCCESS;
    if (state->lifeline >= 0) close(state->lifeline);
    state->lifeline = -1;
    state->socket_path[0] = '\0';
    argv = watchdog_argv(pconf, server, conf);
    if (pipe2(lifeline_pipe, O_CLOEXEC) != 0) return errno;
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        close(lifeline_pipe[0]);
        close(lifeline_pipe[1]);
        return errno;
    }
    pid = fork();
    if (pid == 0) {
        exec_watchdog(argv, lifeline_pipe[0], report_pipe[1],
                      passenger_any_root_apps(pconf, server), has_log_file(argv));
    }
    close(lifeline_pipe[0]);
    close(report_pipe[1]);
    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, errno, server, "passenger: fork() failed");
        close(lifeline_pipe[1]);
        close(report_pipe[0]);
        return APR_EGENERAL;
    }
    if (!read_report(report_pipe[0], line, sizeof(line))) {
        apr_cpystrn(line, "error it exited or did not answer", sizeof(line));
    }
    close(report_pipe[0]);
    if (strncmp(line, "listening /", 11) != 0 || strlen(line + 10) >= sizeof(state->socket_path)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, server, "passenger: the watchdog (%s) failed: %s",
                     argv[0], strncmp(line, "error ", 6) == 0 ? line + 6 : line);
        close(lifeline_pipe[1]);
        kill(pid, SIGTERM);
        waitpid(pid, NULL, 0);
        return APR_EGENERAL;
    }
    apr_cpystrn(state->socket_path, line + 10, sizeof(state->socket_path));
    state->pid = pid;
    state->lifeline = lifeline_pipe[1];
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, server, "passenger: watchdog %d, core socket %s",
                 (int)pid, state->socket_path);
    return APR_SUCCESS;
}

apr_status_t passenger_tell_watchdog(server_rec* server, const unsigned char* message,
                                     apr_size_t length) {
    watchdog_state_t* state = state_of(server);
    ssize_t written;

    /* A blocking pipe: the watchdog reads each message whole as soon as it starts. */
    while (length > 0) {
        written = write(state->lifeline, message, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            ap_log_error(APLOG_MARK, APLOG_ALERT, errno, server,
                         "passenger: cannot send the configuration to the watchdog");
            return APR_EGENERAL;
        }
        message += written;
        length -= written;
    }
    return APR_SUCCESS;
}

/*
 * One watchdog (and through it one core) per nginx master: started from the master when the
 * configuration is loaded (never by `nginx -t` or `nginx -s`), kept across reloads, told to stop
 * when the master exits. The watchdog gets two pipes:
 *   fd 3, the lifeline: the master holds the write end; "q" means stop gracefully (nginx -s quit),
 *         "s" stop at once (nginx -s stop), end of file (the master died) stops gracefully;
 *   fd 4, the report: the watchdog writes "listening PATH\n" once the core's socket is bound, or
 *         "error MESSAGE\n".
 * Statics survive a reload: the module stays loaded while the old cycle still holds it.
 */
#include "passenger_module.h"

#include <poll.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#define REPORT_TIMEOUT_MS 30000

static ngx_pid_t watchdog_pid = NGX_INVALID_PID;
static int lifeline = -1;
static struct sockaddr_un core_address;
static int core_address_set;

struct sockaddr* passenger_core_address(socklen_t* length) {
    if (!core_address_set) return NULL;
    *length = sizeof(core_address);
    return (struct sockaddr*)&core_address;
}

static char* copy_string(ngx_pool_t* pool, const char* format, ...) {
    u_char buffer[NGX_MAX_PATH + 64], *last;
    va_list args;
    char* copy;

    va_start(args, format);
    last = ngx_vslprintf(buffer, buffer + sizeof(buffer) - 1, format, args);
    va_end(args);
    *last = '\0';
    copy = ngx_pnalloc(pool, last - buffer + 1);
    if (copy != NULL) ngx_memcpy(copy, buffer, last - buffer + 1);
    return copy;
}

/* argv of `passenger nginx-watchdog`: the http{}-level settings as `passenger start` flags. */
static char** watchdog_argv(ngx_cycle_t* cycle, passenger_main_conf_t* mcf, char* executable) {
    ngx_core_conf_t* ccf = (ngx_core_conf_t*)ngx_get_conf(cycle->conf_ctx, ngx_core_module);
    char** argv = ngx_pcalloc(cycle->pool, 20 * sizeof(char*));
    ngx_str_t* log_file = &mcf->log_file;
    int n = 0;

    if (argv == NULL) return NULL;
    argv[n++] = executable;
    argv[n++] = "nginx-watchdog";
    argv[n++] = "--log-level";
    argv[n++] = copy_string(cycle->pool, "%i", mcf->log_level);
    argv[n++] = "--max-pool-size";
    argv[n++] = copy_string(cycle->pool, "%i", mcf->max_pool_size);
    if (mcf->core_threads != NGX_CONF_UNSET) {
        argv[n++] = "--core-threads";
        argv[n++] = copy_string(cycle->pool, "%i", mcf->core_threads);
    }
    argv[n++] = "--pool-idle-time";
    argv[n++] = copy_string(cycle->pool, "%i", mcf->pool_idle_time);
    /* Passenger's default log is nginx's global error log (unless that is stderr, which the
     * watchdog inherits anyway). */
    if (log_file->len == 0 && cycle->new_log.file != NULL) log_file = &cycle->new_log.file->name;
    if (log_file->len > 0) {
        argv[n++] = "--log-file";
        argv[n++] = copy_string(cycle->pool, "%V", log_file);
    }
    if (mcf->instance_registry_dir.len > 0) {
        argv[n++] = "--instance-registry-dir";
        argv[n++] = copy_string(cycle->pool, "%V", &mcf->instance_registry_dir);
    }
    /* A root master's workers run as the `user` directive says; the core that reads their
     * requests runs as that user too, never as root. */
    if (geteuid() == 0 && ccf != NULL && ccf->username != NULL) {
        argv[n++] = "--user";
        argv[n++] = (char*)ccf->username;
    }
    argv[n] = NULL;
    while (n-- > 0) {
        if (argv[n] == NULL) return NULL; /* a copy failed */
    }
    return argv;
}

/* Puts `fd` at `target`, inheritable (dup2 onto itself would keep close-on-exec). */
static int move_fd(int fd, int target) {
    if (fd == target) return fcntl(fd, F_SETFD, 0);
    return dup2(fd, target) < 0 ? -1 : 0;
}

static void exec_watchdog(char** argv, int lifeline_reader, int report_writer, int root_apps) {
    sigset_t all;

    /* nginx's signal mask and handlers are not the watchdog's; neither are its other fds
     * (listening sockets above all: they must close when nginx stops). */
    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    signal(SIGPIPE, SIG_DFL);
    setsid();
    /* The report pipe leaves fd 3 first, so that placing the lifeline there cannot close it. */
    if (report_writer == 3) {
        report_writer = dup(report_writer);
        if (report_writer < 0) _exit(127);
    }
    if (move_fd(lifeline_reader, 3) != 0 || move_fd(report_writer, 4) != 0) _exit(127);
    if (close_range(5, ~0U, 0) != 0) {
        int fd;
        for (fd = 5; fd < 1024; fd++) close(fd);
    }
    /* The spawn helper runs no app as root unless the configuration named root: a core taken
     * over cannot ask for it (src/spawn/README.md). Read and removed by the core. */
    if (root_apps) setenv("PASSENGER_ALLOW_ROOT_APPS", "1", 1);
    execv(argv[0], argv);
    dprintf(4, "error cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

/* Reads the watchdog's one report line into `line` (NUL-terminated). */
static ngx_int_t read_report(int fd, char* line, size_t size) {
    struct pollfd poller = {fd, POLLIN, 0};
    size_t used = 0;
    ssize_t n;

    while (used < size - 1) {
        if (poll(&poller, 1, REPORT_TIMEOUT_MS) <= 0) return NGX_ERROR;
        n = read(fd, line + used, size - 1 - used);
        if (n <= 0) break;
        used += n;
        if (memchr(line, '\n', used) != NULL) break;
    }
    line[used] = '\0';
    if (used > 0 && line[used - 1] == '\n') line[used - 1] = '\0';
    return used > 0 ? NGX_OK : NGX_ERROR;
}

ngx_int_t passenger_start_watchdog(ngx_cycle_t* cycle, passenger_main_conf_t* mcf) {
    int lifeline_pipe[2], report_pipe[2];
    char line[NGX_MAX_PATH + 128];
    char* executable;
    char** argv;
    ngx_pid_t pid;

    if (watchdog_pid != NGX_INVALID_PID && kill(watchdog_pid, 0) == 0) return NGX_OK;
    executable = copy_string(cycle->pool, "%V/bin/passenger", &mcf->root);
    argv = executable ? watchdog_argv(cycle, mcf, executable) : NULL;
    if (argv == NULL) return NGX_ERROR;
    if (pipe2(lifeline_pipe, O_CLOEXEC) != 0) return NGX_ERROR;
    if (pipe2(report_pipe, O_CLOEXEC) != 0) {
        close(lifeline_pipe[0]);
        close(lifeline_pipe[1]);
        return NGX_ERROR;
    }
    pid = fork();
    if (pid == 0) exec_watchdog(argv, lifeline_pipe[0], report_pipe[1], mcf->root_apps);
    close(lifeline_pipe[0]);
    close(report_pipe[1]);
    if (pid < 0) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, ngx_errno, "passenger: fork() failed");
        close(lifeline_pipe[1]);
        close(report_pipe[0]);
        return NGX_ERROR;
    }
    if (read_report(report_pipe[0], line, sizeof(line)) != NGX_OK) {
        ngx_cpystrn((u_char*)line, (u_char*)"error it exited or did not answer", sizeof(line));
    }
    close(report_pipe[0]);
    if (ngx_strncmp(line, "listening /", 11) != 0 ||
        ngx_strlen(line + 10) >= sizeof(core_address.sun_path)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "passenger: the watchdog (%s) failed: %s",
                      executable, ngx_strncmp(line, "error ", 6) == 0 ? line + 6 : line);
        close(lifeline_pipe[1]);
        return NGX_ERROR;
    }
    ngx_memzero(&core_address, sizeof(core_address));
    core_address.sun_family = AF_UNIX;
    ngx_cpystrn((u_char*)core_address.sun_path, (u_char*)line + 10, sizeof(core_address.sun_path));
    core_address_set = 1;
    watchdog_pid = pid;
    lifeline = lifeline_pipe[1];
    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, "passenger: watchdog %P, core socket %s", pid,
                  core_address.sun_path);
    return NGX_OK;
}

void passenger_stop_watchdog(ngx_cycle_t* cycle) {
    /* ngx_terminate: nginx -s stop (or SIGTERM/SIGINT); otherwise a graceful quit. */
    const char* how = ngx_terminate ? "s" : "q";

    if (lifeline < 0) return;
    if (write(lifeline, how, 1) != 1) {
        ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno, "passenger: cannot tell the watchdog");
    }
    close(lifeline);
    lifeline = -1;
}

ngx_int_t passenger_watchdog_running(void) {
    return lifeline >= 0;
}

ngx_int_t passenger_tell_watchdog(ngx_cycle_t* cycle, const u_char* message, size_t length) {
    ssize_t written;

    /* A blocking pipe: the watchdog reads each message whole as soon as it starts. */
    while (length > 0) {
        written = write(lifeline, message, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) {
            ngx_log_error(NGX_LOG_ALERT, cycle->log, ngx_errno,
                          "passenger: cannot send the configuration to the watchdog");
            return NGX_ERROR;
        }
        message += written;
        length -= written;
    }
    return NGX_OK;
}

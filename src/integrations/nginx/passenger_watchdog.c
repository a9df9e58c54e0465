/*
 * One watchdog (and through it one core) per nginx master: started from the master when the
 * configuration is loaded (never by `nginx -t` or `nginx -s`), kept across reloads, told to stop
 * when the master exits (started by ../common/passenger_watchdog_launch.c). The watchdog gets two
 * pipes:
 *   fd 3, the lifeline: the master holds the write end; "q" means stop gracefully (nginx -s quit),
 *         "s" stop at once (nginx -s stop), end of file (the master died) stops gracefully;
 *   fd 4, the report: the watchdog writes "listening PATH\n" once the core's socket is bound, or
 *         "error MESSAGE\n".
 * Statics survive a reload: the module stays loaded while the old cycle still holds it.
 */
#include "passenger_module.h"
#include "passenger_watchdog_launch.h"

#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

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

ngx_int_t passenger_start_watchdog(ngx_cycle_t* cycle, passenger_main_conf_t* mcf) {
    passenger_launch_t launched;
    char* executable;
    char** argv;

    if (watchdog_pid != NGX_INVALID_PID && kill(watchdog_pid, 0) == 0) return NGX_OK;
    executable = copy_string(cycle->pool, "%V/bin/passenger", &mcf->root);
    argv = executable ? watchdog_argv(cycle, mcf, executable) : NULL;
    if (argv == NULL) return NGX_ERROR;
    if (passenger_launch_watchdog(argv, mcf->root_apps, 0, &launched) != 0 ||
        ngx_strlen(launched.line) >= sizeof(core_address.sun_path)) {
        ngx_log_error(NGX_LOG_EMERG, cycle->log, 0, "passenger: the watchdog (%s) failed: %s",
                      executable, launched.line);
        if (launched.lifeline >= 0) close(launched.lifeline);
        return NGX_ERROR;
    }
    ngx_memzero(&core_address, sizeof(core_address));
    core_address.sun_family = AF_UNIX;
    ngx_cpystrn((u_char*)core_address.sun_path, (u_char*)launched.line,
                sizeof(core_address.sun_path));
    core_address_set = 1;
    watchdog_pid = launched.pid;
    lifeline = launched.lifeline;
    ngx_log_error(NGX_LOG_NOTICE, cycle->log, 0, "passenger: watchdog %P, core socket %s",
                  watchdog_pid, core_address.sun_path);
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

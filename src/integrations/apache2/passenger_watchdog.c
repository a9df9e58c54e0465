/*
 * One watchdog (and through it one core) per Apache instance, started by the parent in
 * post_config and kept across graceful restarts. Apache unloads and loads the module again on
 * every restart, so nothing about the watchdog may live in the module's statics: its pid, the
 * lifeline and the core's socket path live in the process pool's userdata, which lasts as long as
 * the parent. The watchdog (`passenger apache2-watchdog`, started by ../common) gets the
 * lifeline, whose write end the parent holds (close-on-exec, closed in each child): end of file
 * (Apache stopped, however it stopped) stops the watchdog gracefully, "c" + frame is a
 * configuration (passenger_configuration.c).
 */
#include "passenger_module.h"
#include "passenger_watchdog_launch.h"

#include "unixd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

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

static int watchdog_alive(watchdog_state_t* state) {
    /* A watchdog that exited is Apache's child: reap it here if the MPM has not. */
    if (state->pid <= 0) return 0;
    if (waitpid(state->pid, NULL, WNOHANG) == state->pid) return 0;
    return kill(state->pid, 0) == 0;
}

apr_status_t passenger_ensure_watchdog(apr_pool_t* pconf, server_rec* server) {
    watchdog_state_t* state = state_of(server);
    passenger_launch_t launched;
    char** argv;

    if (watchdog_alive(state)) return APR_SUCCESS;
    if (state->lifeline >= 0) close(state->lifeline);
    state->lifeline = -1;
    state->socket_path[0] = '\0';
    argv = watchdog_argv(pconf, server, passenger_server_conf());
    /* Apache's stderr is its error log: with a log file, lines written to both would show twice. */
    if (passenger_launch_watchdog(argv, passenger_any_root_apps(pconf, server), has_log_file(argv),
                                  &launched) != 0 ||
        strlen(launched.line) >= sizeof(state->socket_path)) {
        ap_log_error(APLOG_MARK, APLOG_EMERG, 0, server, "passenger: the watchdog (%s) failed: %s",
                     argv[0], launched.line);
        if (launched.lifeline >= 0) close(launched.lifeline);
        return APR_EGENERAL;
    }
    apr_cpystrn(state->socket_path, launched.line, sizeof(state->socket_path));
    state->pid = launched.pid;
    state->lifeline = launched.lifeline;
    ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, server, "passenger: watchdog %d, core socket %s",
                 (int)launched.pid, state->socket_path);
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

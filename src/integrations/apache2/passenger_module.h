/*
 * The Apache module's shared types: its per-directory settings (server config, VirtualHost,
 * Directory, .htaccess), the server-wide ones, and what each file offers the others. The module
 * is thin: it parses directives, starts the watchdog once per Apache instance, and moves requests
 * to the core over a Unix socket (src/integrations/README.md, "Apache module").
 */
#ifndef PASSENGER_APACHE_MODULE_H
#define PASSENGER_APACHE_MODULE_H

#include "httpd.h"

#include "apr_strings.h"
#include "apr_tables.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"

#include "passenger_chunked.h"

#define PASSENGER_UNSET (-1)

/* Settings of one app, per directory: merged by Apache (VirtualHost, then Directory/Location,
 * then .htaccess). Strings are NULL and numbers and switches PASSENGER_UNSET when not set. */
typedef struct {
    int enabled;          /* default on, as in Passenger: an app is used where one is detected */
    const char* app_root; /* default: the parent of DocumentRoot */
    const char* app_type;
    const char* startup_file;
    const char* app_env; /* default: production */
    const char* nodejs;
    const char* ruby;
    const char* default_ruby; /* PassengerDefaultRuby: ruby when PassengerRuby is not set */
    const char* python;
    const char* meteor_app_settings;
    const char* app_start_command;
    const char* sticky_sessions_cookie_name;
    apr_array_header_t* base_uris; /* of const char* */
    int sticky_sessions;
    int rolling_restarts;
    int resist_deployment_errors;
    int friendly_error_pages;
    int min_instances;
    int max_request_queue_size;
    int max_requests;
    int start_timeout;
    int memory_limit;
    int max_request_time;
    int user_switching;
    const char* default_user;
    const char* default_group;
    const char* user;
    const char* group;
} passenger_dir_conf_t;

/* Settings of the one watchdog and core of this Apache instance (server config only, as
 * Passenger's: set in a VirtualHost they still apply to the whole instance). */
typedef struct {
    const char* root;     /* PassengerRoot: holds bin/passenger */
    const char* log_file; /* default: Apache's main ErrorLog */
    int log_level;
    int max_pool_size;
    int pool_idle_time;
    const char* instance_registry_dir;
    apr_array_header_t* pre_start; /* of const char*: http:// URLs */
} passenger_server_conf_t;

extern module AP_MODULE_DECLARE_DATA passenger_module;
extern const command_rec passenger_commands[];

/* passenger_directives.c */
void* passenger_create_dir_conf(apr_pool_t* pool, char* context);
void* passenger_merge_dir_conf(apr_pool_t* pool, void* parent, void* child);
/* The server-wide settings of the configuration being read (made in pre_config). */
passenger_server_conf_t* passenger_server_conf(void);
void passenger_reset_server_conf(apr_pool_t* pconf);

/* passenger_settings.c: an app's settings block (NAME NUL VALUE NUL ...,
 * src/integrations/README.md) from a merged per-directory configuration, with mod_env's
 * SetEnv/PassEnv values as envvar pairs; NULL when no app is configured or detected there. */
const char* passenger_settings_block(apr_pool_t* pool, server_rec* server,
                                     ap_conf_vector_t* per_dir_config, const char* uri,
                                     apr_size_t* length);
/* Whether an account directive of this configuration names root (the watchdog must know). */
int passenger_names_root(const passenger_dir_conf_t* conf);

/* passenger_configuration.c: every app of every VirtualHost (and Directory/Location section)
 * and the server-wide settings, sent to the core through the watchdog after each configuration
 * cycle (start, graceful restart). */
apr_status_t passenger_send_configuration(apr_pool_t* pool, server_rec* main_server);
int passenger_any_root_apps(apr_pool_t* pool, server_rec* main_server);
unsigned char* passenger_put_length(unsigned char* p, apr_size_t length);

/* passenger_watchdog.c: one watchdog per Apache instance, its state kept in the process pool
 * (the module itself is unloaded and loaded again on each restart). */
apr_status_t passenger_ensure_watchdog(apr_pool_t* pconf, server_rec* main_server);
apr_status_t passenger_tell_watchdog(server_rec* server, const unsigned char* message,
                                     apr_size_t length);
/* In each Apache child, at its start: the core's socket path for its requests; the lifeline is
 * the parent's alone. */
void passenger_init_child(server_rec* server);
/* The core's socket path ("" when no watchdog runs). */
const char* passenger_core_socket_path(void);

/* passenger_request.c: the handler. */
int passenger_handler(request_rec* r);
/* Writes all of `data` to a blocking socket; 0, or -1 on an error. */
int passenger_write_all(int fd, const char* data, apr_size_t length);
/* Whether `name` is in the NULL-ended list (case-insensitive: header names). */
int passenger_listed(const char* const* names, const char* name);

/* passenger_response.c: the core's response to r, passed on to the client. Returns the handler's
 * status (OK, or HTTP_BAD_GATEWAY when nothing reached the client); `*responded`: some byte of
 * the response arrived. Gives core_fd back (passenger_core_connection_done) in every case: to
 * the cache when the response was read exactly to its end and the core keeps the connection (no
 * `Connection: close`, no tunnel), and before the client can see the response's end. */
int passenger_relay_response(request_rec* r, int core_fd, int* responded);

/* passenger_keepalive.c: each child's cache of idle connections to the core (channel v3). */
void passenger_keepalive_init(apr_pool_t* pchild);
/* A connection to the core: a cached one (`*cached` = 1) unless `fresh`, else a new one; -1 when
 * the core cannot be reached. */
int passenger_core_connection(request_rec* r, int fresh, int* cached);
/* Back to the cache when `reusable`, else closed. */
void passenger_core_connection_done(int fd, int reusable);

/* passenger_tunnel.c: after the app's 101, the client's connection and the core's socket are
 * relayed both ways until either side closes. */
int passenger_relay_upgrade(request_rec* r, int core_fd, const char* head, apr_size_t head_length);

#endif

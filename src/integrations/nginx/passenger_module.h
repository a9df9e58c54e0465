/*
 * The nginx module's shared types: its configuration (main and per location) and what each
 * file offers the others. The module is thin: it parses directives, starts the watchdog once per
 * nginx master, and moves requests to the core over a Unix socket (src/integrations/README.md).
 */
#ifndef PASSENGER_MODULE_H
#define PASSENGER_MODULE_H

#include <ngx_config.h>
#include <ngx_core.h>
#include <ngx_http.h>

/* http{} settings: they configure the one watchdog and core of this nginx master. */
typedef struct {
    ngx_str_t root;                    /* passenger_root: holds bin/passenger */
    ngx_str_t log_file;                /* default: nginx's global error log */
    ngx_int_t log_level;               /* 0..4 */
    ngx_int_t max_pool_size;           /* one cap for every app */
    ngx_int_t pool_idle_time;          /* seconds */
    ngx_str_t instance_registry_dir;   /* for passenger-status */
    ngx_flag_t enabled_somewhere;      /* set while merging: some location has passenger_enabled */
    ngx_array_t* pre_start;            /* passenger_pre_start URLs (ngx_str_t) */
    ngx_array_t* app_blocks;           /* every enabled location's settings block (ngx_str_t) */
    ngx_flag_t root_apps;              /* set while merging: an account directive names root */
    ngx_http_upstream_conf_t upstream; /* the channel to the core (fixed, not configurable) */
} passenger_main_conf_t;

/* Per-app settings, in http, server and location. */
typedef struct {
    ngx_flag_t enabled;
    ngx_str_t app_root; /* default: the parent of root */
    ngx_str_t app_type;
    ngx_str_t startup_file;
    ngx_str_t app_env; /* default: production */
    ngx_str_t nodejs;
    ngx_str_t ruby;
    ngx_str_t python;
    ngx_str_t meteor_app_settings;
    ngx_str_t app_start_command;
    ngx_str_t sticky_sessions_cookie_name;
    ngx_array_t* env_vars;  /* of ngx_keyval_t */
    ngx_array_t* base_uris; /* passenger_base_uri paths (ngx_str_t), each its own app */
    ngx_flag_t sticky_sessions;
    ngx_flag_t rolling_restarts;
    ngx_flag_t resist_deployment_errors;
    ngx_flag_t friendly_error_pages; /* unset: on in development (the core decides) */
    ngx_int_t min_instances;
    ngx_int_t max_request_queue_size;
    ngx_int_t max_requests;
    ngx_int_t start_timeout;
    ngx_int_t memory_limit;
    ngx_int_t max_request_time;
    /* Whose account the app runs as (automatic user switching; the spawn helper decides). */
    ngx_flag_t user_switching; /* http only, like the two defaults */
    ngx_str_t default_user;
    ngx_str_t default_group;
    ngx_str_t user;
    ngx_str_t group;
    /* The settings block sent before each request of this location, built at configuration
     * time (passenger_settings.c); empty unless enabled. */
    ngx_str_t settings_block;
    /* One block per base URI (settings_block plus its base_uri), parallel to base_uris. */
    ngx_str_t* base_uri_blocks;
} passenger_loc_conf_t;

extern ngx_module_t ngx_http_passenger_module;
extern ngx_command_t passenger_commands[];

/* passenger_directives.c */
void* passenger_create_main_conf(ngx_conf_t* cf);
char* passenger_init_main_conf(ngx_conf_t* cf, void* conf);
void* passenger_create_loc_conf(ngx_conf_t* cf);
char* passenger_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child);

/* passenger_settings.c: the location's settings block (see src/integrations/README.md). */
char* passenger_build_settings_block(ngx_conf_t* cf, passenger_loc_conf_t* conf,
                                     ngx_http_core_loc_conf_t* clcf);
/* The block of a request: that of the longest base URI its path is under, else the plain one. */
ngx_str_t* passenger_settings_block_for(ngx_http_request_t* r, passenger_loc_conf_t* conf);

/* passenger_configuration.c: the configuration message (every app, the http{} settings) sent
 * to the core through the watchdog once a configuration cycle is complete. */
ngx_int_t passenger_send_configuration(ngx_cycle_t* cycle, passenger_main_conf_t* mcf);
/* Big-endian u32 at p; returns p + 4. */
u_char* passenger_put_length(u_char* p, size_t length);

/* passenger_request.c: the content handler of passenger_enabled locations. */
ngx_int_t passenger_content_handler(ngx_http_request_t* r);
ngx_int_t passenger_init_upstream_conf(ngx_conf_t* cf, ngx_http_upstream_conf_t* upstream);

/* passenger_keepalive.c: the upstream's peer (the core's socket) with each worker's cache of
 * idle connections to it; the upstream's peer.init. */
ngx_int_t passenger_init_core_peer(ngx_http_request_t* r, ngx_http_upstream_srv_conf_t* us);

/* passenger_watchdog.c: one watchdog per nginx master, kept across reloads. */
ngx_int_t passenger_start_watchdog(ngx_cycle_t* cycle, passenger_main_conf_t* mcf);
ngx_int_t passenger_watchdog_running(void);
/* Writes a message on the lifeline (the watchdog reads it whole). */
ngx_int_t passenger_tell_watchdog(ngx_cycle_t* cycle, const u_char* message, size_t length);
void passenger_stop_watchdog(ngx_cycle_t* cycle);
/* The core's socket (set in the master once the watchdog listens; workers inherit it). */
struct sockaddr* passenger_core_address(socklen_t* length);

#endif

/*
 * ngx_http_passenger_module: the module's definition and its life in the nginx master. The
 * directives are in passenger_directives.c, requests in passenger_request.c, the watchdog in
 * passenger_watchdog.c.
 */
#include "passenger_module.h"

static ngx_int_t passenger_postconfiguration(ngx_conf_t* cf);
static ngx_int_t passenger_init_module(ngx_cycle_t* cycle);
static void passenger_exit_master(ngx_cycle_t* cycle);

static ngx_http_module_t passenger_module_ctx = {
    NULL,                        /* preconfiguration */
    passenger_postconfiguration, /* postconfiguration */
    passenger_create_main_conf,  /* create main configuration */
    passenger_init_main_conf,    /* init main configuration */
    NULL,                        /* create server configuration */
    NULL,                        /* merge server configuration */
    passenger_create_loc_conf,   /* create location configuration */
    passenger_merge_loc_conf     /* merge location configuration */
};

ngx_module_t ngx_http_passenger_module = {NGX_MODULE_V1,
                                          &passenger_module_ctx,
                                          passenger_commands,
                                          NGX_HTTP_MODULE,
                                          NULL,                  /* init master */
                                          passenger_init_module, /* init module */
                                          NULL,                  /* init process */
                                          NULL,                  /* init thread */
                                          NULL,                  /* exit thread */
                                          NULL,                  /* exit process */
                                          passenger_exit_master, /* exit master */
                                          NGX_MODULE_V1_PADDING};

/* Runs for `nginx -t` too: what would stop the core from starting is a configuration error. */
static ngx_int_t passenger_postconfiguration(ngx_conf_t* cf) {
    passenger_main_conf_t* mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_passenger_module);
    u_char path[NGX_MAX_PATH];

    if (!mcf->enabled_somewhere) return NGX_OK;
    if (mcf->root.len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "passenger_enabled needs passenger_root (see `passenger-config "
                           "about root`)");
        return NGX_ERROR;
    }
    ngx_snprintf(path, sizeof(path) - 1, "%V/bin/passenger%Z", &mcf->root);
    if (access((char*)path, X_OK) != 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, ngx_errno, "passenger_root \"%V\": cannot run %s",
                           &mcf->root, path);
        return NGX_ERROR;
    }
    return NGX_OK;
}

/* Runs in the master once a configuration cycle is complete: at start and after each reload
 * that succeeded (a failed reload keeps the old cycle and never gets here). */
static ngx_int_t passenger_init_module(ngx_cycle_t* cycle) {
    passenger_main_conf_t* mcf =
        ngx_http_cycle_get_module_main_conf(cycle, ngx_http_passenger_module);

    /* `nginx -t` and `nginx -s ...` load the configuration too; they start nothing. */
    if (ngx_test_config || ngx_process == NGX_PROCESS_SIGNALLER) return NGX_OK;
    if (mcf != NULL && mcf->enabled_somewhere && passenger_start_watchdog(cycle, mcf) != NGX_OK) {
        return NGX_ERROR;
    }
    /* Kept from an earlier cycle, the watchdog learns this one's apps (maybe none any more). A
     * failure here is logged and leaves the apps as they were: not worth failing nginx for. */
    if (passenger_watchdog_running()) (void)passenger_send_configuration(cycle, mcf);
    return NGX_OK;
}

static void passenger_exit_master(ngx_cycle_t* cycle) {
    passenger_stop_watchdog(cycle);
}

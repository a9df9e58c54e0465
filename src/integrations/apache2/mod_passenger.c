/*
 * mod_passenger (LoadModule passenger_module PATH): the module's definition and its life in the
 * Apache parent. Directives are in passenger_directives.c, requests in passenger_request.c, the
 * watchdog in passenger_watchdog.c.
 *
 * Apache reads its configuration twice at start (the first pass, AP_SQ_MS_CREATE_PRE_CONFIG,
 * before it detaches; `apache2 -t` and `apache2 -k ...` stop after it) and once more at each
 * restart (AP_SQ_MS_CREATE_CONFIG). The watchdog starts in the first CREATE_CONFIG pass and is
 * kept by the later ones, which only send it the new configuration.
 */
#include "passenger_module.h"

#include <unistd.h>

static int passenger_pre_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp) {
    (void)plog;
    (void)ptemp;
    passenger_reset_server_conf(pconf);
    return OK;
}

/* Runs for `apache2 -t` too: what would stop the core from starting is a configuration error. */
static int passenger_check_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp,
                                  server_rec* server) {
    passenger_server_conf_t* conf = passenger_server_conf();

    (void)pconf;
    (void)plog;
    if (conf->root == NULL) return OK; /* the module stays out of the way */
    if (access(apr_pstrcat(ptemp, conf->root, "/bin/passenger", NULL), X_OK) != 0) {
        ap_log_error(APLOG_MARK, APLOG_STARTUP | APLOG_EMERG, errno, server,
                     "PassengerRoot \"%s\": cannot run %s/bin/passenger (see `passenger-config "
                     "about root`)",
                     conf->root, conf->root);
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    return OK;
}

static int passenger_post_config(apr_pool_t* pconf, apr_pool_t* plog, apr_pool_t* ptemp,
                                 server_rec* server) {
    (void)plog;
    if (ap_state_query(AP_SQ_MAIN_STATE) != AP_SQ_MS_CREATE_CONFIG) return OK;
    if (passenger_server_conf()->root == NULL) return OK;
    if (passenger_ensure_watchdog(pconf, server) != APR_SUCCESS) return HTTP_INTERNAL_SERVER_ERROR;
    /* A failure here is logged and leaves the apps as they were: not worth failing Apache for. */
    (void)passenger_send_configuration(ptemp, server);
    return OK;
}

static void passenger_child_init(apr_pool_t* pchild, server_rec* server) {
    (void)pchild;
    passenger_init_child(server);
}

static void passenger_register_hooks(apr_pool_t* pool) {
    (void)pool;
    ap_hook_pre_config(passenger_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_check_config(passenger_check_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(passenger_post_config, NULL, NULL, APR_HOOK_LAST);
    ap_hook_child_init(passenger_child_init, NULL, NULL, APR_HOOK_MIDDLE);
    /* Before the handlers of mod_autoindex, mod_cgi and the default file handler. */
    ap_hook_handler(passenger_handler, NULL, NULL, APR_HOOK_FIRST);
}

AP_DECLARE_MODULE(passenger) = {
    STANDARD20_MODULE_STUFF,
    passenger_create_dir_conf, /* per-directory configuration */
    passenger_merge_dir_conf,  /* merging it */
    NULL,                      /* per-server configuration */
    NULL,                      /* merging it */
    passenger_commands,
    passenger_register_hooks,
    AP_MODULE_FLAG_NONE,
};

/*
 * The passenger_* directives: names, contexts and defaults as in Phusion Passenger. Values are
 * checked here, so a bad one fails `nginx -t` with nginx's own message naming the directive and
 * file:line; the core checks them again with the same rules as `passenger start`.
 */
#include "passenger_module.h"

#define PASSENGER_APP_CONTEXT \
    (NGX_HTTP_MAIN_CONF | NGX_HTTP_SRV_CONF | NGX_HTTP_LOC_CONF | NGX_HTTP_LIF_CONF)
#define PASSENGER_MAIN_CONTEXT NGX_HTTP_MAIN_CONF

static char* passenger_set_app_type(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
static char* passenger_set_env_var(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
static char* passenger_set_word(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
static char* passenger_set_path(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);

static char* passenger_set_base_uri(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
static char* passenger_set_pre_start(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);
static char* passenger_set_number(ngx_conf_t* cf, ngx_command_t* cmd, void* conf);

/* The range of a number directive (its post); without one: >= 0. */
typedef struct {
    ngx_int_t min;
    ngx_int_t max; /* -1: no upper bound */
    char* expected;
} passenger_range_t;

static passenger_range_t at_least_one = {1, -1, "must be a whole number >= 1"};
static passenger_range_t log_levels = {0, 4, "must be a log level (0-4)"};

#define MAIN_OFFSET(field) offsetof(passenger_main_conf_t, field)
#define LOC_OFFSET(field) offsetof(passenger_loc_conf_t, field)

#define PASSENGER_MAIN(name, take, setter, field, post)                                     \
    {                                                                                       \
        ngx_string(name), PASSENGER_MAIN_CONTEXT | take, setter, NGX_HTTP_MAIN_CONF_OFFSET, \
            MAIN_OFFSET(field), post                                                        \
    }
/* Settings of every app that Passenger allows in http only: kept per location all the same, so
 * that they travel in each app's settings block. */
#define PASSENGER_APP_MAIN(name, take, setter, field, post)                                \
    {                                                                                      \
        ngx_string(name), PASSENGER_MAIN_CONTEXT | take, setter, NGX_HTTP_LOC_CONF_OFFSET, \
            LOC_OFFSET(field), post                                                        \
    }
#define PASSENGER_APP(name, take, setter, field, post)                                    \
    {                                                                                     \
        ngx_string(name), PASSENGER_APP_CONTEXT | take, setter, NGX_HTTP_LOC_CONF_OFFSET, \
            LOC_OFFSET(field), post                                                       \
    }

ngx_command_t passenger_commands[] = {
    PASSENGER_MAIN("passenger_root", NGX_CONF_TAKE1, passenger_set_path, root, NULL),
    PASSENGER_MAIN("passenger_log_file", NGX_CONF_TAKE1, passenger_set_path, log_file, NULL),
    PASSENGER_MAIN("passenger_log_level", NGX_CONF_TAKE1, passenger_set_number, log_level,
                   &log_levels),
    PASSENGER_MAIN("passenger_max_pool_size", NGX_CONF_TAKE1, passenger_set_number, max_pool_size,
                   &at_least_one),
    PASSENGER_MAIN("passenger_core_threads", NGX_CONF_TAKE1, passenger_set_number, core_threads,
                   &at_least_one),
    PASSENGER_MAIN("passenger_pool_idle_time", NGX_CONF_TAKE1, passenger_set_number, pool_idle_time,
                   NULL),
    PASSENGER_MAIN("passenger_pre_start", NGX_CONF_TAKE1, passenger_set_pre_start, pre_start, NULL),
    PASSENGER_MAIN("passenger_instance_registry_dir", NGX_CONF_TAKE1, passenger_set_path,
                   instance_registry_dir, NULL),

    PASSENGER_APP("passenger_enabled", NGX_CONF_FLAG, ngx_conf_set_flag_slot, enabled, NULL),
    PASSENGER_APP("passenger_app_root", NGX_CONF_TAKE1, passenger_set_path, app_root, NULL),
    PASSENGER_APP("passenger_base_uri", NGX_CONF_TAKE1, passenger_set_base_uri, base_uris, NULL),
    PASSENGER_APP("passenger_app_type", NGX_CONF_TAKE1, passenger_set_app_type, app_type, NULL),
    PASSENGER_APP("passenger_startup_file", NGX_CONF_TAKE1, passenger_set_word, startup_file, NULL),
    PASSENGER_APP("passenger_app_env", NGX_CONF_TAKE1, passenger_set_word, app_env, NULL),
    PASSENGER_APP("passenger_env_var", NGX_CONF_TAKE12, passenger_set_env_var, env_vars, NULL),
    PASSENGER_APP("passenger_nodejs", NGX_CONF_TAKE1, passenger_set_word, nodejs, NULL),
    PASSENGER_APP("passenger_ruby", NGX_CONF_TAKE1, passenger_set_word, ruby, NULL),
    PASSENGER_APP("passenger_python", NGX_CONF_TAKE1, passenger_set_word, python, NULL),
    PASSENGER_APP("passenger_meteor_app_settings", NGX_CONF_TAKE1, passenger_set_path,
                  meteor_app_settings, NULL),
    PASSENGER_APP("passenger_app_start_command", NGX_CONF_TAKE1, passenger_set_word,
                  app_start_command, NULL),
    PASSENGER_APP("passenger_sticky_sessions", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
                  sticky_sessions, NULL),
    PASSENGER_APP("passenger_sticky_sessions_cookie_name", NGX_CONF_TAKE1, passenger_set_word,
                  sticky_sessions_cookie_name, NULL),
    PASSENGER_APP("passenger_min_instances", NGX_CONF_TAKE1, passenger_set_number, min_instances,
                  NULL),
    PASSENGER_APP("passenger_max_request_queue_size", NGX_CONF_TAKE1, passenger_set_number,
                  max_request_queue_size, NULL),
    PASSENGER_APP("passenger_max_requests", NGX_CONF_TAKE1, passenger_set_number, max_requests,
                  NULL),
    PASSENGER_APP("passenger_start_timeout", NGX_CONF_TAKE1, passenger_set_number, start_timeout,
                  &at_least_one),
    PASSENGER_APP("passenger_rolling_restarts", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
                  rolling_restarts, NULL),
    PASSENGER_APP("passenger_resist_deployment_errors", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
                  resist_deployment_errors, NULL),
    PASSENGER_APP("passenger_friendly_error_pages", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
                  friendly_error_pages, NULL),
    PASSENGER_APP("passenger_memory_limit", NGX_CONF_TAKE1, passenger_set_number, memory_limit,
                  NULL),
    PASSENGER_APP("passenger_max_request_time", NGX_CONF_TAKE1, passenger_set_number,
                  max_request_time, NULL),
    PASSENGER_APP_MAIN("passenger_user_switching", NGX_CONF_FLAG, ngx_conf_set_flag_slot,
                       user_switching, NULL),
    PASSENGER_APP_MAIN("passenger_default_user", NGX_CONF_TAKE1, passenger_set_word, default_user,
                       NULL),
    PASSENGER_APP_MAIN("passenger_default_group", NGX_CONF_TAKE1, passenger_set_word, default_group,
                       NULL),
    PASSENGER_APP("passenger_user", NGX_CONF_TAKE1, passenger_set_word, user, NULL),
    PASSENGER_APP("passenger_group", NGX_CONF_TAKE1, passenger_set_word, group, NULL),
    ngx_null_command};

static char* passenger_set_number(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    ngx_int_t* field = (ngx_int_t*)((char*)conf + cmd->offset);
    passenger_range_t* range = cmd->post;
    ngx_str_t* value = cf->args->elts;
    ngx_int_t number;

    if (*field != NGX_CONF_UNSET) return "is duplicate";
    number = ngx_atoi(value[1].data, value[1].len);
    if (number == NGX_ERROR) return range ? range->expected : "must be a whole number >= 0";
    if (range && (number < range->min || (range->max >= 0 && number > range->max))) {
        return range->expected;
    }
    *field = number;
    return NGX_CONF_OK;
}

/* One word without control characters (a command, a file name, an environment name). */
static char* passenger_set_word(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    ngx_str_t* field = (ngx_str_t*)((char*)conf + cmd->offset);
    ngx_str_t* value = cf->args->elts;
    ngx_uint_t i;

    if (field->data != NULL) return "is duplicate";
    if (value[1].len == 0) return "must not be empty";
    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] < 0x20 || value[1].data[i] == 0x7f) {
            return "must not contain control characters";
        }
    }
    *field = value[1];
    return NGX_CONF_OK;
}

/* A path, made absolute against nginx's prefix like nginx's own paths. */
static char* passenger_set_path(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    ngx_str_t* field = (ngx_str_t*)((char*)conf + cmd->offset);
    char* error = passenger_set_word(cf, cmd, conf);

    if (error != NGX_CONF_OK) return error;
    if (ngx_conf_full_name(cf->cycle, field, 0) != NGX_OK) return NGX_CONF_ERROR;
    return NGX_CONF_OK;
}

/* passenger_pre_start http://HOST[:PORT]/PATH (repeatable): the core requests it once nginx
 * serves, so the app behind it starts without waiting for a client. */
static char* passenger_set_pre_start(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    ngx_str_t* value = cf->args->elts;
    ngx_uint_t i;

    if (value[1].len <= sizeof("http://") - 1 ||
        ngx_strncmp(value[1].data, "http://", sizeof("http://") - 1) != 0) {
        return "must be an http:// URL (the core requests it through nginx)";
    }
    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] == 0x7f) {
            return "must not contain spaces or control characters";
        }
    }
    return ngx_conf_set_str_array_slot(cf, cmd, conf);
}

/* passenger_base_uri /PATH (repeatable): the app also serves the URIs under PATH, as its own
 * app (SCRIPT_NAME for Rack and WSGI). A trailing slash is dropped. */
static char* passenger_set_base_uri(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    ngx_str_t* value = cf->args->elts;
    ngx_uint_t i;

    while (value[1].len > 1 && value[1].data[value[1].len - 1] == '/') value[1].len--;
    if (value[1].len < 2 || value[1].data[0] != '/') {
        return "must be a path below / such as /app";
    }
    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] <= 0x20 || value[1].data[i] == 0x7f || value[1].data[i] == '?' ||
            value[1].data[i] == '#') {
            return "must be a path without spaces, control characters, '?' or '#'";
        }
    }
    return ngx_conf_set_str_array_slot(cf, cmd, conf);
}

static char* passenger_set_app_type(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    static const char* types[] = {"node", "rack", "wsgi", "meteor", "generic", NULL};
    ngx_str_t* value = cf->args->elts;
    const char** type;

    for (type = types; *type != NULL; type++) {
        if (value[1].len == ngx_strlen(*type) &&
            ngx_strncmp(value[1].data, *type, value[1].len) == 0) {
            return passenger_set_word(cf, cmd, conf);
        }
    }
    return "must be node, rack, wsgi, meteor or generic";
}

/* passenger_env_var NAME [VALUE]: an environment variable of the app (empty without VALUE). */
static char* passenger_set_env_var(ngx_conf_t* cf, ngx_command_t* cmd, void* conf) {
    passenger_loc_conf_t* lcf = conf;
    ngx_str_t* value = cf->args->elts;
    ngx_keyval_t* env_var;
    ngx_uint_t i;

    (void)cmd;
    if (value[1].len == 0) return "needs a variable name";
    for (i = 0; i < value[1].len; i++) {
        if (value[1].data[i] == '=' || value[1].data[i] <= 0x20 || value[1].data[i] == 0x7f) {
            return "has a variable name with '=', a space or a control character";
        }
    }
    if (lcf->env_vars == NGX_CONF_UNSET_PTR || lcf->env_vars == NULL) {
        lcf->env_vars = ngx_array_create(cf->pool, 4, sizeof(ngx_keyval_t));
        if (lcf->env_vars == NULL) return NGX_CONF_ERROR;
    }
    env_var = ngx_array_push(lcf->env_vars);
    if (env_var == NULL) return NGX_CONF_ERROR;
    env_var->key = value[1];
    if (cf->args->nelts == 3) {
        env_var->value = value[2];
    } else {
        ngx_str_null(&env_var->value);
    }
    return NGX_CONF_OK;
}

static ngx_int_t names_root(ngx_str_t* name) {
    return name->len == 4 && ngx_strncmp(name->data, "root", 4) == 0;
}

void* passenger_create_main_conf(ngx_conf_t* cf) {
    passenger_main_conf_t* conf = ngx_pcalloc(cf->pool, sizeof(passenger_main_conf_t));

    if (conf == NULL) return NULL;
    conf->log_level = NGX_CONF_UNSET;
    conf->max_pool_size = NGX_CONF_UNSET;
    conf->core_threads = NGX_CONF_UNSET;
    conf->pool_idle_time = NGX_CONF_UNSET;
    conf->pre_start = NGX_CONF_UNSET_PTR;
    conf->app_blocks = ngx_array_create(cf->pool, 4, sizeof(ngx_str_t));
    if (conf->app_blocks == NULL) return NULL;
    return conf;
}

char* passenger_init_main_conf(ngx_conf_t* cf, void* conf) {
    passenger_main_conf_t* mcf = conf;

    ngx_conf_init_value(mcf->log_level, 2);
    ngx_conf_init_value(mcf->max_pool_size, 6);
    ngx_conf_init_value(mcf->pool_idle_time, 300);
    ngx_conf_init_ptr_value(mcf->pre_start, NULL);
    if (passenger_init_upstream_conf(cf, &mcf->upstream) != NGX_OK) return NGX_CONF_ERROR;
    return NGX_CONF_OK;
}

void* passenger_create_loc_conf(ngx_conf_t* cf) {
    passenger_loc_conf_t* conf = ngx_pcalloc(cf->pool, sizeof(passenger_loc_conf_t));

    if (conf == NULL) return NULL;
    conf->enabled = NGX_CONF_UNSET;
    conf->env_vars = NGX_CONF_UNSET_PTR;
    conf->base_uris = NGX_CONF_UNSET_PTR;
    conf->sticky_sessions = NGX_CONF_UNSET;
    conf->rolling_restarts = NGX_CONF_UNSET;
    conf->resist_deployment_errors = NGX_CONF_UNSET;
    conf->friendly_error_pages = NGX_CONF_UNSET;
    conf->min_instances = NGX_CONF_UNSET;
    conf->max_request_queue_size = NGX_CONF_UNSET;
    conf->max_requests = NGX_CONF_UNSET;
    conf->start_timeout = NGX_CONF_UNSET;
    conf->memory_limit = NGX_CONF_UNSET;
    conf->max_request_time = NGX_CONF_UNSET;
    conf->user_switching = NGX_CONF_UNSET;
    return conf;
}

char* passenger_merge_loc_conf(ngx_conf_t* cf, void* parent, void* child) {
    passenger_loc_conf_t* prev = parent;
    passenger_loc_conf_t* conf = child;
    ngx_http_core_loc_conf_t* clcf;
    passenger_main_conf_t* mcf;
    ngx_str_t* block;
    ngx_uint_t i;

    ngx_conf_merge_value(conf->enabled, prev->enabled, 0);
    ngx_conf_merge_str_value(conf->app_root, prev->app_root, "");
    ngx_conf_merge_str_value(conf->app_type, prev->app_type, "");
    ngx_conf_merge_str_value(conf->startup_file, prev->startup_file, "");
    ngx_conf_merge_str_value(conf->app_env, prev->app_env, "production");
    ngx_conf_merge_str_value(conf->nodejs, prev->nodejs, "");
    ngx_conf_merge_str_value(conf->ruby, prev->ruby, "");
    ngx_conf_merge_str_value(conf->python, prev->python, "");
    ngx_conf_merge_str_value(conf->meteor_app_settings, prev->meteor_app_settings, "");
    ngx_conf_merge_str_value(conf->app_start_command, prev->app_start_command, "");
    ngx_conf_merge_str_value(conf->sticky_sessions_cookie_name, prev->sticky_sessions_cookie_name,
                             "");
    ngx_conf_merge_ptr_value(conf->env_vars, prev->env_vars, NULL);
    ngx_conf_merge_ptr_value(conf->base_uris, prev->base_uris, NULL);
    ngx_conf_merge_value(conf->sticky_sessions, prev->sticky_sessions, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->rolling_restarts, prev->rolling_restarts, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->resist_deployment_errors, prev->resist_deployment_errors,
                         NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->friendly_error_pages, prev->friendly_error_pages, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->min_instances, prev->min_instances, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->max_request_queue_size, prev->max_request_queue_size,
                         NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->max_requests, prev->max_requests, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->start_timeout, prev->start_timeout, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->memory_limit, prev->memory_limit, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->max_request_time, prev->max_request_time, NGX_CONF_UNSET);
    ngx_conf_merge_value(conf->user_switching, prev->user_switching, NGX_CONF_UNSET);
    ngx_conf_merge_str_value(conf->default_user, prev->default_user, "");
    ngx_conf_merge_str_value(conf->default_group, prev->default_group, "");
    ngx_conf_merge_str_value(conf->user, prev->user, "");
    ngx_conf_merge_str_value(conf->group, prev->group, "");

    if (!conf->enabled) return NGX_CONF_OK;
    /* The core module merged this location before us: its root is final. */
    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);
    mcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_passenger_module);
    mcf->enabled_somewhere = 1;
    if (names_root(&conf->user) || names_root(&conf->group) || names_root(&conf->default_user) ||
        names_root(&conf->default_group)) {
        mcf->root_apps = 1;
    }
    clcf->handler = passenger_content_handler;
    if (passenger_build_settings_block(cf, conf, clcf) != NGX_CONF_OK) return NGX_CONF_ERROR;
    /* For the configuration message (passenger_configuration.c); the core skips repeats. */
    block = ngx_array_push(mcf->app_blocks);
    if (block == NULL) return NGX_CONF_ERROR;
    *block = conf->settings_block;
    for (i = 0; conf->base_uris != NULL && i < conf->base_uris->nelts; i++) {
        block = ngx_array_push(mcf->app_blocks);
        if (block == NULL) return NGX_CONF_ERROR;
        *block = conf->base_uri_blocks[i];
    }
    return NGX_CONF_OK;
}

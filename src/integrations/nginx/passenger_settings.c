/*
 * A location's settings block: what the core needs to know about the app, as NAME NUL VALUE NUL
 * pairs, built once at configuration time and sent before every request of the location (the
 * channel is specified in src/integrations/README.md). The names are Passengerfile.json's.
 */
#include "passenger_module.h"

typedef struct {
    ngx_pool_t* pool;
    ngx_array_t bytes; /* of u_char */
    ngx_int_t failed;
} settings_writer_t;

static void append(settings_writer_t* writer, const u_char* data, size_t length) {
    u_char* space;

    if (writer->failed) return;
    space = ngx_array_push_n(&writer->bytes, length);
    if (space == NULL) {
        writer->failed = 1;
        return;
    }
    ngx_memcpy(space, data, length);
}

static void append_pair(settings_writer_t* writer, const char* name, const u_char* value,
                        size_t length) {
    append(writer, (const u_char*)name, ngx_strlen(name) + 1);
    append(writer, value, length);
    append(writer, (const u_char*)"", 1);
}

static void append_text(settings_writer_t* writer, const char* name, ngx_str_t* value) {
    if (value->len > 0) append_pair(writer, name, value->data, value->len);
}

static void append_number(settings_writer_t* writer, const char* name, ngx_int_t value) {
    u_char text[NGX_INT_T_LEN];

    if (value == NGX_CONF_UNSET) return;
    append_pair(writer, name, text, ngx_sprintf(text, "%i", value) - text);
}

static void append_switch(settings_writer_t* writer, const char* name, ngx_flag_t value) {
    if (value == NGX_CONF_UNSET) return;
    if (value) {
        append_pair(writer, name, (const u_char*)"true", 4);
    } else {
        append_pair(writer, name, (const u_char*)"false", 5);
    }
}

/* Passenger's default app root: the folder above the location's root (its public/). */
static char* default_app_root(ngx_conf_t* cf, ngx_http_core_loc_conf_t* clcf, ngx_str_t* out) {
    size_t length = clcf->root.len;

    if (clcf->root_lengths != NULL) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "passenger_enabled: \"root\" has variables here; set "
                           "passenger_app_root");
        return NGX_CONF_ERROR;
    }
    while (length > 1 && clcf->root.data[length - 1] == '/') length--;
    while (length > 0 && clcf->root.data[length - 1] != '/') length--;
    while (length > 1 && clcf->root.data[length - 1] == '/') length--;
    if (length == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "passenger_enabled: root \"%V\" has no parent folder; set "
                           "passenger_app_root",
                           &clcf->root);
        return NGX_CONF_ERROR;
    }
    out->data = clcf->root.data;
    out->len = length;
    return NGX_CONF_OK;
}

/* Each base URI's block: the location's block followed by "base_uri" NUL PATH NUL. */
static char* build_base_uri_blocks(ngx_conf_t* cf, passenger_loc_conf_t* conf) {
    ngx_str_t* uris;
    ngx_str_t* block;
    ngx_uint_t i;
    u_char* p;

    if (conf->base_uris == NULL) return NGX_CONF_OK;
    uris = conf->base_uris->elts;
    conf->base_uri_blocks = ngx_pcalloc(cf->pool, conf->base_uris->nelts * sizeof(ngx_str_t));
    if (conf->base_uri_blocks == NULL) return NGX_CONF_ERROR;
    for (i = 0; i < conf->base_uris->nelts; i++) {
        block = &conf->base_uri_blocks[i];
        block->len = conf->settings_block.len + sizeof("base_uri") + uris[i].len + 1;
        block->data = ngx_pnalloc(cf->pool, block->len);
        if (block->data == NULL) return NGX_CONF_ERROR;
        p = ngx_cpymem(block->data, conf->settings_block.data, conf->settings_block.len);
        p = ngx_cpymem(p, "base_uri", sizeof("base_uri"));
        p = ngx_cpymem(p, uris[i].data, uris[i].len);
        *p = '\0';
    }
    return NGX_CONF_OK;
}

char* passenger_build_settings_block(ngx_conf_t* cf, passenger_loc_conf_t* conf,
                                     ngx_http_core_loc_conf_t* clcf) {
    settings_writer_t writer = {cf->pool, {0}, 0};
    ngx_str_t app_root = conf->app_root;
    ngx_keyval_t* env_var;
    ngx_uint_t i;
    u_char* pair;
    size_t length;

    if (app_root.len == 0 && default_app_root(cf, clcf, &app_root) != NGX_CONF_OK) {
        return NGX_CONF_ERROR;
    }
    if (ngx_array_init(&writer.bytes, cf->pool, 512, 1) != NGX_OK) return NGX_CONF_ERROR;

    append_text(&writer, "app_root", &app_root);
    append_text(&writer, "environment", &conf->app_env);
    append_text(&writer, "app_type", &conf->app_type);
    append_text(&writer, "startup_file", &conf->startup_file);
    append_text(&writer, "nodejs", &conf->nodejs);
    append_text(&writer, "ruby", &conf->ruby);
    append_text(&writer, "python", &conf->python);
    append_text(&writer, "meteor_app_settings", &conf->meteor_app_settings);
    append_text(&writer, "app_start_command", &conf->app_start_command);
    append_switch(&writer, "sticky_sessions", conf->sticky_sessions);
    append_text(&writer, "sticky_sessions_cookie_name", &conf->sticky_sessions_cookie_name);
    append_number(&writer, "min_instances", conf->min_instances);
    append_number(&writer, "max_request_queue_size", conf->max_request_queue_size);
    append_number(&writer, "max_requests", conf->max_requests);
    append_number(&writer, "start_timeout", conf->start_timeout);
    append_switch(&writer, "rolling_restarts", conf->rolling_restarts);
    append_switch(&writer, "resist_deployment_errors", conf->resist_deployment_errors);
    append_switch(&writer, "friendly_error_pages", conf->friendly_error_pages);
    append_number(&writer, "memory_limit", conf->memory_limit);
    append_number(&writer, "max_request_time", conf->max_request_time);
    if (conf->env_vars != NULL) {
        env_var = conf->env_vars->elts;
        for (i = 0; i < conf->env_vars->nelts; i++) {
            /* "envvar" NUL NAME=VALUE NUL */
            length = env_var[i].key.len + 1 + env_var[i].value.len;
            pair = ngx_pnalloc(cf->pool, length);
            if (pair == NULL) return NGX_CONF_ERROR;
            ngx_memcpy(pair, env_var[i].key.data, env_var[i].key.len);
            pair[env_var[i].key.len] = '=';
            ngx_memcpy(pair + env_var[i].key.len + 1, env_var[i].value.data, env_var[i].value.len);
            append_pair(&writer, "envvar", pair, length);
        }
    }
    if (writer.failed) return NGX_CONF_ERROR;
    conf->settings_block.data = writer.bytes.elts;
    conf->settings_block.len = writer.bytes.nelts;
    return build_base_uri_blocks(cf, conf);
}

ngx_str_t* passenger_settings_block_for(ngx_http_request_t* r, passenger_loc_conf_t* conf) {
    ngx_str_t* block = &conf->settings_block;
    ngx_str_t* uris;
    size_t longest = 0;
    ngx_uint_t i;

    if (conf->base_uris == NULL) return block;
    uris = conf->base_uris->elts;
    for (i = 0; i < conf->base_uris->nelts; i++) {
        if (uris[i].len <= longest || r->uri.len < uris[i].len ||
            ngx_strncmp(r->uri.data, uris[i].data, uris[i].len) != 0) {
            continue;
        }
        if (r->uri.len == uris[i].len || r->uri.data[uris[i].len] == '/') {
            block = &conf->base_uri_blocks[i];
            longest = uris[i].len;
        }
    }
    return block;
}

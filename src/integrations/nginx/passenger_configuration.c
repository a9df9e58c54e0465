/*
 * The configuration message: once nginx has built a configuration cycle completely (its
 * init_module hook, which a failed reload never reaches), the master tells the core every app
 * it configures and the http{} settings, so that the core stops apps no longer configured,
 * restarts those whose settings changed and applies the new pool size, idle time and log level
 * (channel version 2, src/integrations/README.md). It travels on the lifeline: the watchdog
 * keeps the latest one and hands it to every core it starts.
 *
 *   lifeline frame:  'c'  u32 length C  C bytes
 *   C bytes:         records, each u32 length + bytes: first the http{} settings
 *                    (NAME NUL VALUE NUL ...), then one settings block per enabled location
 */
#include "passenger_module.h"

u_char* passenger_put_length(u_char* p, size_t length) {
    *p++ = (u_char)(length >> 24);
    *p++ = (u_char)(length >> 16);
    *p++ = (u_char)(length >> 8);
    *p++ = (u_char)length;
    return p;
}

static u_char* put_pair(u_char* p, const char* name, ngx_str_t* value) {
    p = ngx_cpymem(p, name, ngx_strlen(name) + 1);
    p = ngx_cpymem(p, value->data, value->len);
    *p++ = '\0';
    return p;
}

static u_char* put_number_pair(u_char* p, const char* name, ngx_int_t value) {
    u_char text[NGX_INT_T_LEN];
    ngx_str_t string = {0, text};

    string.len = ngx_sprintf(text, "%i", value) - text;
    return put_pair(p, name, &string);
}

ngx_int_t passenger_send_configuration(ngx_cycle_t* cycle, passenger_main_conf_t* mcf) {
    ngx_str_t* blocks = NULL;
    ngx_str_t* urls = NULL;
    ngx_uint_t block_count = 0, url_count = 0, i;
    size_t length, server_wide;
    u_char *message, *p, *server_wide_start;
    ngx_int_t rc;

    /* No http{} (or no passenger_* in it) any more: an empty list stops every app. */
    if (mcf != NULL && mcf->app_blocks != NULL) {
        blocks = mcf->app_blocks->elts;
        block_count = mcf->app_blocks->nelts;
    }
    if (mcf != NULL && mcf->pre_start != NULL) {
        urls = mcf->pre_start->elts;
        url_count = mcf->pre_start->nelts;
    }
    server_wide = 3 * (sizeof("max_pool_size") + NGX_INT_T_LEN + 1);
    for (i = 0; i < url_count; i++) server_wide += sizeof("pre_start") + urls[i].len + 1;
    length = 1 + 4 + 4 + server_wide;
    for (i = 0; i < block_count; i++) length += 4 + blocks[i].len;

    message = ngx_alloc(length, cycle->log);
    if (message == NULL) return NGX_ERROR;
    p = message + 1 + 4 + 4;
    server_wide_start = p;
    if (mcf != NULL) {
        p = put_number_pair(p, "log_level", mcf->log_level);
        p = put_number_pair(p, "max_pool_size", mcf->max_pool_size);
        p = put_number_pair(p, "pool_idle_time", mcf->pool_idle_time);
    }
    for (i = 0; i < url_count; i++) p = put_pair(p, "pre_start", &urls[i]);
    passenger_put_length(server_wide_start - 4, p - server_wide_start);
    for (i = 0; i < block_count; i++) {
        p = passenger_put_length(p, blocks[i].len);
        p = ngx_cpymem(p, blocks[i].data, blocks[i].len);
    }
    message[0] = 'c';
    passenger_put_length(message + 1, p - (message + 5));
    rc = passenger_tell_watchdog(cycle, message, p - message);
    ngx_free(message);
    return rc;
}

/*
 * The configuration message (channel version 2, src/integrations/README.md): after each
 * configuration cycle Apache completed (start, graceful restart; never `apache2 -t`), the parent
 * tells the core every app it configures and the server-wide settings, so that the core stops
 * apps no longer configured, restarts those whose settings changed and applies the new pool
 * size, idle time and log level. It travels on the lifeline; the watchdog keeps the latest one
 * and hands it to every core it starts.
 *
 *   lifeline frame:  'c'  u32 length C  C bytes
 *   C bytes:         records, each u32 length + bytes: first the server-wide settings
 *                    (NAME NUL VALUE NUL ...), then one settings block per app
 *
 * The apps: each server's (main and VirtualHost) own settings, and each of its Directory and
 * Location sections merged over them, as a request there would see them (.htaccess files are
 * read per request: an app configured only there starts on its first request).
 */
#include "passenger_module.h"

unsigned char* passenger_put_length(unsigned char* p, apr_size_t length) {
    *p++ = (unsigned char)(length >> 24);
    *p++ = (unsigned char)(length >> 16);
    *p++ = (unsigned char)(length >> 8);
    *p++ = (unsigned char)length;
    return p;
}

typedef struct {
    apr_pool_t* pool;
    apr_array_header_t* records; /* of struct iovec-like pairs: data, length */
} record_list_t;

typedef struct {
    const char* data;
    apr_size_t length;
} record_t;

static void add_record(record_list_t* list, const char* data, apr_size_t length) {
    record_t* record = apr_array_push(list->records);
    record->data = data;
    record->length = length;
}

static void add_blocks_of(record_list_t* list, server_rec* server, ap_conf_vector_t* config) {
    const passenger_dir_conf_t* conf = ap_get_module_config(config, &passenger_module);
    apr_size_t length;
    const char* block = passenger_settings_block(list->pool, server, config, NULL, &length);
    int i;

    if (block == NULL) return;
    add_record(list, block, length);
    for (i = 0; conf->base_uris != NULL && i < conf->base_uris->nelts; i++) {
        const char* base = APR_ARRAY_IDX(conf->base_uris, i, const char*);
        block = passenger_settings_block(list->pool, server, config, base, &length);
        if (block != NULL) add_record(list, block, length);
    }
}

static void add_sections(record_list_t* list, server_rec* server, apr_array_header_t* sections) {
    int i;

    for (i = 0; sections != NULL && i < sections->nelts; i++) {
        ap_conf_vector_t* section = APR_ARRAY_IDX(sections, i, ap_conf_vector_t*);
        add_blocks_of(list, server,
                      ap_merge_per_dir_configs(list->pool, server->lookup_defaults, section));
    }
}

static record_list_t every_app(apr_pool_t* pool, server_rec* main_server) {
    record_list_t list = {pool, apr_array_make(pool, 8, sizeof(record_t))};
    server_rec* server;

    for (server = main_server; server != NULL; server = server->next) {
        core_server_config* core = ap_get_core_module_config(server->module_config);
        add_blocks_of(&list, server, server->lookup_defaults);
        add_sections(&list, server, core->sec_dir);
        add_sections(&list, server, core->sec_url);
    }
    return list;
}

int passenger_any_root_apps(apr_pool_t* pool, server_rec* main_server) {
    server_rec* server;

    (void)pool;
    for (server = main_server; server != NULL; server = server->next) {
        const passenger_dir_conf_t* conf =
            ap_get_module_config(server->lookup_defaults, &passenger_module);
        if (conf != NULL && passenger_names_root(conf)) return 1;
    }
    return 0;
}

static void put_pair(char** p, const char* name, const char* value) {
    apr_size_t length = strlen(name) + 1;
    memcpy(*p, name, length);
    *p += length;
    length = strlen(value) + 1;
    memcpy(*p, value, length);
    *p += length;
}

apr_status_t passenger_send_configuration(apr_pool_t* pool, server_rec* main_server) {
    passenger_server_conf_t* conf = passenger_server_conf();
    record_list_t apps = every_app(pool, main_server);
    apr_size_t length = 1 + 4 + 4 + 3 * 40, i;
    unsigned char* message;
    char *p, *server_wide;

    for (i = 0; i < (apr_size_t)conf->pre_start->nelts; i++) {
        length += sizeof("pre_start") + strlen(APR_ARRAY_IDX(conf->pre_start, i, char*)) + 1;
    }
    for (i = 0; i < (apr_size_t)apps.records->nelts; i++) {
        length += 4 + APR_ARRAY_IDX(apps.records, i, record_t).length;
    }
    message = apr_palloc(pool, length);
    server_wide = p = (char*)message + 1 + 4 + 4;
    put_pair(&p, "log_level", apr_itoa(pool, conf->log_level));
    put_pair(&p, "max_pool_size", apr_itoa(pool, conf->max_pool_size));
    put_pair(&p, "pool_idle_time", apr_itoa(pool, conf->pool_idle_time));
    for (i = 0; i < (apr_size_t)conf->pre_start->nelts; i++) {
        put_pair(&p, "pre_start", APR_ARRAY_IDX(conf->pre_start, i, char*));
    }
    passenger_put_length((unsigned char*)server_wide - 4, p - server_wide);
    for (i = 0; i < (apr_size_t)apps.records->nelts; i++) {
        record_t* record = &APR_ARRAY_IDX(apps.records, i, record_t);
        p = (char*)passenger_put_length((unsigned char*)p, record->length);
        memcpy(p, record->data, record->length);
        p += record->length;
    }
    message[0] = 'c';
    passenger_put_length(message + 1, (unsigned char*)p - (message + 5));
    return passenger_tell_watchdog(main_server, message, (unsigned char*)p - message);
}

/*
 * An app's settings block: what the core needs to know about the app, as NAME NUL VALUE NUL
 * pairs with Passengerfile.json's names (the channel is specified in src/integrations/README.md).
 * Apache merges per-directory settings per request (VirtualHost, Directory, .htaccess), so the
 * block is built from the merged configuration; the same configuration gives the same bytes,
 * which is what the core keys the app on.
 *
 * SetEnv/PassEnv values in effect there (mod_env's per-directory table) become the app's
 * environment, as in Passenger, where the tutorial sets MONGO_URL and ROOT_URL that way.
 */
#include "passenger_module.h"

#include <sys/stat.h>

/* mod_env's per-directory configuration (mod_env.c; unchanged since Apache 2.0): we read the
 * variables it would put into r->subprocess_env, without the per-request ones other modules add
 * (UNIQUE_ID, SetEnvIf), which must not make every request a different app. */
typedef struct {
    apr_table_t* vars;
    apr_table_t* unsetenv;
} mod_env_dir_conf_t;

typedef struct {
    apr_pool_t* pool;
    char* data;
    apr_size_t length;
    apr_size_t capacity;
} block_writer_t;

static void append(block_writer_t* writer, const char* data, apr_size_t length) {
    if (writer->length + length > writer->capacity) {
        apr_size_t capacity = (writer->capacity + length) * 2;
        char* bigger = apr_palloc(writer->pool, capacity);
        if (writer->length > 0) memcpy(bigger, writer->data, writer->length);
        writer->data = bigger;
        writer->capacity = capacity;
    }
    memcpy(writer->data + writer->length, data, length);
    writer->length += length;
}

static void append_text(block_writer_t* writer, const char* name, const char* value) {
    if (value == NULL) return;
    append(writer, name, strlen(name) + 1);
    append(writer, value, strlen(value) + 1);
}

static void append_number(block_writer_t* writer, const char* name, int value) {
    if (value == PASSENGER_UNSET) return;
    append_text(writer, name, apr_itoa(writer->pool, value));
}

static void append_switch(block_writer_t* writer, const char* name, int value) {
    if (value == PASSENGER_UNSET) return;
    append_text(writer, name, value ? "true" : "false");
}

/* Passenger's default app root: the folder above DocumentRoot (the app's public/). */
static const char* default_app_root(apr_pool_t* pool, server_rec* server) {
    core_server_config* core = ap_get_core_module_config(server->module_config);
    const char* root = core->ap_document_root;
    apr_size_t length;

    if (root == NULL) return NULL;
    length = strlen(root);
    while (length > 1 && root[length - 1] == '/') length--;
    while (length > 0 && root[length - 1] != '/') length--;
    while (length > 1 && root[length - 1] == '/') length--;
    return length == 0 ? NULL : apr_pstrndup(pool, root, length);
}

static int exists(apr_pool_t* pool, const char* folder, const char* name) {
    struct stat info;
    return stat(apr_pstrcat(pool, folder, "/", name, NULL), &info) == 0;
}

/* Passenger uses the app where it finds one: a type named by a directive, or a startup file of
 * a type the core detects. Elsewhere Apache serves as if the module were not there. */
static int has_app(apr_pool_t* pool, const passenger_dir_conf_t* conf, const char* app_root) {
    if (conf->app_type || conf->app_start_command || conf->startup_file) return 1;
    return exists(pool, app_root, "config.ru") || exists(pool, app_root, "passenger_wsgi.py") ||
           exists(pool, app_root, "app.js") || exists(pool, app_root, ".meteor");
}

/* The base URI the request's path is under (the longest), or NULL. */
static const char* base_uri_of(const passenger_dir_conf_t* conf, const char* uri) {
    const char* found = NULL;
    apr_size_t longest = 0, length;
    int i;

    if (conf->base_uris == NULL || uri == NULL) return NULL;
    for (i = 0; i < conf->base_uris->nelts; i++) {
        const char* base = APR_ARRAY_IDX(conf->base_uris, i, const char*);
        length = strlen(base);
        if (length <= longest || strncmp(uri, base, length) != 0) continue;
        if (uri[length] == '\0' || uri[length] == '/') {
            found = base;
            longest = length;
        }
    }
    return found;
}

int passenger_names_root(const passenger_dir_conf_t* conf) {
    return (conf->user && strcmp(conf->user, "root") == 0) ||
           (conf->group && strcmp(conf->group, "root") == 0) ||
           (conf->default_user && strcmp(conf->default_user, "root") == 0) ||
           (conf->default_group && strcmp(conf->default_group, "root") == 0);
}

static void append_env_vars(block_writer_t* writer, server_rec* server,
                            ap_conf_vector_t* per_dir_config) {
    module* env_module = ap_find_linked_module("mod_env.c");
    const mod_env_dir_conf_t* env;
    const apr_array_header_t* entries;
    const apr_table_entry_t* entry;
    int i;

    (void)server;
    if (env_module == NULL) return;
    env = ap_get_module_config(per_dir_config, env_module);
    if (env == NULL || env->vars == NULL) return;
    entries = apr_table_elts(env->vars);
    entry = (const apr_table_entry_t*)entries->elts;
    for (i = 0; i < entries->nelts; i++) {
        append_text(
            writer, "envvar",
            apr_pstrcat(writer->pool, entry[i].key, "=", entry[i].val ? entry[i].val : "", NULL));
    }
}

const char* passenger_settings_block(apr_pool_t* pool, server_rec* server,
                                     ap_conf_vector_t* per_dir_config, const char* uri,
                                     apr_size_t* length) {
    const passenger_dir_conf_t* conf = ap_get_module_config(per_dir_config, &passenger_module);
    block_writer_t writer = {pool, NULL, 0, 0};
    const char* app_root;

    if (conf == NULL || conf->enabled == 0) return NULL;
    app_root = conf->app_root ? conf->app_root : default_app_root(pool, server);
    if (app_root == NULL || !has_app(pool, conf, app_root)) return NULL;

    append_text(&writer, "app_root", app_root);
    append_text(&writer, "environment", conf->app_env ? conf->app_env : "production");
    append_text(&writer, "app_type", conf->app_type);
    append_text(&writer, "startup_file", conf->startup_file);
    append_text(&writer, "nodejs", conf->nodejs);
    append_text(&writer, "ruby", conf->ruby ? conf->ruby : conf->default_ruby);
    append_text(&writer, "python", conf->python);
    append_text(&writer, "meteor_app_settings", conf->meteor_app_settings);
    append_text(&writer, "app_start_command", conf->app_start_command);
    append_switch(&writer, "sticky_sessions", conf->sticky_sessions);
    append_text(&writer, "sticky_sessions_cookie_name", conf->sticky_sessions_cookie_name);
    append_number(&writer, "min_instances", conf->min_instances);
    append_number(&writer, "max_request_queue_size", conf->max_request_queue_size);
    append_number(&writer, "max_requests", conf->max_requests);
    append_number(&writer, "start_timeout", conf->start_timeout);
    append_switch(&writer, "rolling_restarts", conf->rolling_restarts);
    append_switch(&writer, "resist_deployment_errors", conf->resist_deployment_errors);
    append_switch(&writer, "friendly_error_pages", conf->friendly_error_pages);
    append_number(&writer, "memory_limit", conf->memory_limit);
    append_number(&writer, "max_request_time", conf->max_request_time);
    append_switch(&writer, "user_switching", conf->user_switching);
    append_text(&writer, "default_user", conf->default_user);
    append_text(&writer, "default_group", conf->default_group);
    append_text(&writer, "user", conf->user);
    append_text(&writer, "group", conf->group);
    append_env_vars(&writer, server, per_dir_config);
    append_text(&writer, "base_uri", base_uri_of(conf, uri));
    *length = writer.length;
    return writer.data;
}

/*
 * The Passenger* directives: names, contexts and defaults as in Phusion Passenger's Apache module
 * (RSRC_CONF: server config and VirtualHost; ACCESS_CONF: Directory and Location; OR_ALL:
 * .htaccess with any AllowOverride). A bad value fails `apache2 -t`: Apache prints the string a
 * setter returns after "Syntax error on line N of FILE:", so each message starts with the
 * directive's name. Unknown Passenger* directives fail by Apache's own "Invalid command".
 */
#include "passenger_module.h"

#include <ctype.h>

#define SERVER_WIDE RSRC_CONF
#define PER_APP (RSRC_CONF | ACCESS_CONF)
#define PER_APP_OR_HTACCESS (RSRC_CONF | ACCESS_CONF | OR_ALL)

static passenger_server_conf_t* server_conf;

passenger_server_conf_t* passenger_server_conf(void) {
    return server_conf;
}

/* pre_config, each configuration cycle: the settings of the configuration about to be read. */
void passenger_reset_server_conf(apr_pool_t* pconf) {
    server_conf = apr_pcalloc(pconf, sizeof(*server_conf));
    server_conf->log_level = 2;
    server_conf->max_pool_size = 6;
    server_conf->pool_idle_time = 300;
    server_conf->pre_start = apr_array_make(pconf, 2, sizeof(const char*));
}

static const char* fail(cmd_parms* cmd, const char* expected) {
    return apr_psprintf(cmd->pool, "%s %s", cmd->cmd->name, expected);
}

/* The range of a number directive (its cmd_data); without one: >= 0. */
typedef struct {
    int min;
    int max; /* -1: no upper bound */
    const char* expected;
} passenger_range_t;

static const passenger_range_t at_least_zero = {0, -1, "must be a whole number >= 0"};
static const passenger_range_t at_least_one = {1, -1, "must be a whole number >= 1"};
static const passenger_range_t log_levels = {0, 4, "must be a log level (0-4)"};

static const char* parse_number(cmd_parms* cmd, const char* value, int* out) {
    const passenger_range_t* range = cmd->info ? cmd->info : &at_least_zero;
    long number = 0;
    const char* p;

    if (*value == '\0') return fail(cmd, range->expected);
    for (p = value; *p; p++) {
        if (!isdigit((unsigned char)*p) || number > 100000000) return fail(cmd, range->expected);
        number = number * 10 + (*p - '0');
    }
    if (number < range->min || (range->max >= 0 && number > range->max)) {
        return fail(cmd, range->expected);
    }
    *out = (int)number;
    return NULL;
}

/* One word without control characters (a command, a file name, an environment name). */
static const char* check_word(cmd_parms* cmd, const char* value) {
    const char* p;

    if (*value == '\0') return fail(cmd, "must not be empty");
    for (p = value; *p; p++) {
        if ((unsigned char)*p < 0x20 || *p == 0x7f) {
            return fail(cmd, "must not contain control characters");
        }
    }
    return NULL;
}

#define FIELD(conf, cmd, type) ((type*)((char*)(conf) + (apr_size_t)(cmd)->info))

/* Per-directory setters: `info` is the field's offset (numbers carry a range instead, below). */
static const char* set_word(cmd_parms* cmd, void* conf, const char* value) {
    const char* error = check_word(cmd, value);

    if (error) return error;
    *FIELD(conf, cmd, const char*) = value;
    return NULL;
}

/* A path, made absolute against ServerRoot like Apache's own paths. */
static const char* set_path(cmd_parms* cmd, void* conf, const char* value) {
    const char* error = check_word(cmd, value);
    const char* path;

    if (error) return error;
    path = ap_server_root_relative(cmd->pool, value);
    if (path == NULL) return fail(cmd, "is not a valid path");
    *FIELD(conf, cmd, const char*) = path;
    return NULL;
}

static const char* set_switch(cmd_parms* cmd, void* conf, int on) {
    *FIELD(conf, cmd, int) = on ? 1 : 0;
    return NULL;
}

static const char* set_app_type(cmd_parms* cmd, void* conf, const char* value) {
    static const char* types[] = {"node", "rack", "wsgi", "meteor", "generic", NULL};
    const char** type;

    for (type = types; *type != NULL; type++) {
        if (strcmp(value, *type) == 0) {
            ((passenger_dir_conf_t*)conf)->app_type = value;
            return NULL;
        }
    }
    return fail(cmd, "must be node, rack, wsgi, meteor or generic");
}

/* PassengerBaseURI /PATH (repeatable): the app also serves the URIs under PATH, as its own app
 * (SCRIPT_NAME for Rack and WSGI). A trailing slash is dropped. */
static const char* add_base_uri(cmd_parms* cmd, void* conf_, const char* value) {
    passenger_dir_conf_t* conf = conf_;
    apr_size_t length = strlen(value);
    const char* p;

    while (length > 1 && value[length - 1] == '/') length--;
    if (length < 2 || value[0] != '/') return fail(cmd, "must be a path below / such as /app");
    for (p = value; p < value + length; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f || *p == '?' || *p == '#') {
            return fail(cmd, "must be a path without spaces, control characters, '?' or '#'");
        }
    }
    if (conf->base_uris == NULL) conf->base_uris = apr_array_make(cmd->pool, 2, sizeof(char*));
    *(const char**)apr_array_push(conf->base_uris) = apr_pstrndup(cmd->pool, value, length);
    return NULL;
}

/* Per-directory numbers: the field is found by name, the range rides in `info`. */
#define NUMBER_SETTER(field)                                                        \
    static const char* set_##field(cmd_parms* cmd, void* conf, const char* value) { \
        return parse_number(cmd, value, &((passenger_dir_conf_t*)conf)->field);     \
    }
NUMBER_SETTER(min_instances)
NUMBER_SETTER(max_request_queue_size)
NUMBER_SETTER(max_requests)
NUMBER_SETTER(start_timeout)
NUMBER_SETTER(memory_limit)
NUMBER_SETTER(max_request_time)

/* Server-wide setters (the configuration's one passenger_server_conf_t). */
static const char* set_server_number(cmd_parms* cmd, void* conf, const char* value) {
    const char* name = cmd->cmd->name;
    int* field = strcmp(name, "PassengerLogLevel") == 0      ? &server_conf->log_level
                 : strcmp(name, "PassengerMaxPoolSize") == 0 ? &server_conf->max_pool_size
                                                             : &server_conf->pool_idle_time;
    (void)conf;
    return parse_number(cmd, value, field);
}

static const char* set_server_path(cmd_parms* cmd, void* conf, const char* value) {
    const char* name = cmd->cmd->name;
    const char** field = strcmp(name, "PassengerRoot") == 0 ? &server_conf->root
                         : strcmp(name, "PassengerLogFile") == 0
                             ? &server_conf->log_file
                             : &server_conf->instance_registry_dir;
    const char* error = check_word(cmd, value);

    (void)conf;
    if (error) return error;
    *field = ap_server_root_relative(cmd->pool, value);
    return *field ? NULL : fail(cmd, "is not a valid path");
}

/* PassengerPreStart http://HOST[:PORT]/PATH (repeatable): the core requests it once Apache
 * serves, so the app behind it starts without waiting for a client. */
static const char* add_pre_start(cmd_parms* cmd, void* conf, const char* value) {
    const char* p;

    (void)conf;
    if (strncmp(value, "http://", 7) != 0 || value[7] == '\0') {
        return fail(cmd, "must be an http:// URL (the core requests it through Apache)");
    }
    for (p = value; *p; p++) {
        if ((unsigned char)*p <= 0x20 || *p == 0x7f) {
            return fail(cmd, "must not contain spaces or control characters");
        }
    }
    *(const char**)apr_array_push(server_conf->pre_start) = value;
    return NULL;
}

#define OFFSET(field) ((void*)APR_OFFSETOF(passenger_dir_conf_t, field))
#define WORD(name, field, context) AP_INIT_TAKE1(name, set_word, OFFSET(field), context, NULL)
#define PATH(name, field, context) AP_INIT_TAKE1(name, set_path, OFFSET(field), context, NULL)
#define SWITCH(name, field, context) AP_INIT_FLAG(name, set_switch, OFFSET(field), context, NULL)
#define NUMBER(name, field, range, context) \
    AP_INIT_TAKE1(name, set_##field, (void*)(range), context, NULL)

const command_rec passenger_commands[] = {
    AP_INIT_TAKE1("PassengerRoot", set_server_path, NULL, SERVER_WIDE, NULL),
    AP_INIT_TAKE1("PassengerLogFile", set_server_path, NULL, SERVER_WIDE, NULL),
    AP_INIT_TAKE1("PassengerInstanceRegistryDir", set_server_path, NULL, SERVER_WIDE, NULL),
    AP_INIT_TAKE1("PassengerLogLevel", set_server_number, (void*)&log_levels, SERVER_WIDE, NULL),
    AP_INIT_TAKE1("PassengerMaxPoolSize", set_server_number, (void*)&at_least_one, SERVER_WIDE,
                  NULL),
    AP_INIT_TAKE1("PassengerPoolIdleTime", set_server_number, NULL, SERVER_WIDE, NULL),
    AP_INIT_TAKE1("PassengerPreStart", add_pre_start, NULL, SERVER_WIDE, NULL),

    SWITCH("PassengerEnabled", enabled, PER_APP_OR_HTACCESS),
    PATH("PassengerAppRoot", app_root, PER_APP),
    AP_INIT_TAKE1("PassengerBaseURI", add_base_uri, NULL, PER_APP, NULL),
    AP_INIT_TAKE1("PassengerAppType", set_app_type, NULL, PER_APP, NULL),
    WORD("PassengerStartupFile", startup_file, PER_APP),
    WORD("PassengerAppEnv", app_env, PER_APP),
    WORD("PassengerNodejs", nodejs, PER_APP),
    WORD("PassengerRuby", ruby, PER_APP),
    WORD("PassengerDefaultRuby", default_ruby, SERVER_WIDE),
    WORD("PassengerPython", python, PER_APP),
    PATH("PassengerMeteorAppSettings", meteor_app_settings, PER_APP),
    WORD("PassengerAppStartCommand", app_start_command, PER_APP),
    SWITCH("PassengerStickySessions", sticky_sessions, PER_APP_OR_HTACCESS),
    WORD("PassengerStickySessionsCookieName", sticky_sessions_cookie_name, PER_APP_OR_HTACCESS),
    NUMBER("PassengerMinInstances", min_instances, NULL, PER_APP),
    NUMBER("PassengerMaxRequestQueueSize", max_request_queue_size, NULL, PER_APP),
    NUMBER("PassengerMaxRequests", max_requests, NULL, PER_APP),
    NUMBER("PassengerStartTimeout", start_timeout, &at_least_one, PER_APP),
    SWITCH("PassengerRollingRestarts", rolling_restarts, PER_APP),
    SWITCH("PassengerResistDeploymentErrors", resist_deployment_errors, PER_APP),
    SWITCH("PassengerFriendlyErrorPages", friendly_error_pages, PER_APP),
    NUMBER("PassengerMemoryLimit", memory_limit, NULL, PER_APP),
    NUMBER("PassengerMaxRequestTime", max_request_time, NULL, PER_APP_OR_HTACCESS),
    /* Automatic user switching: server-wide in Passenger, sent with every app's settings. */
    SWITCH("PassengerUserSwitching", user_switching, SERVER_WIDE),
    WORD("PassengerDefaultUser", default_user, SERVER_WIDE),
    WORD("PassengerDefaultGroup", default_group, SERVER_WIDE),
    WORD("PassengerUser", user, PER_APP),
    WORD("PassengerGroup", group, PER_APP),
    {NULL}};

void* passenger_create_dir_conf(apr_pool_t* pool, char* context) {
    passenger_dir_conf_t* conf = apr_pcalloc(pool, sizeof(*conf));

    (void)context;
    conf->enabled = PASSENGER_UNSET;
    conf->sticky_sessions = PASSENGER_UNSET;
    conf->rolling_restarts = PASSENGER_UNSET;
    conf->resist_deployment_errors = PASSENGER_UNSET;
    conf->friendly_error_pages = PASSENGER_UNSET;
    conf->min_instances = PASSENGER_UNSET;
    conf->max_request_queue_size = PASSENGER_UNSET;
    conf->max_requests = PASSENGER_UNSET;
    conf->start_timeout = PASSENGER_UNSET;
    conf->memory_limit = PASSENGER_UNSET;
    conf->max_request_time = PASSENGER_UNSET;
    conf->user_switching = PASSENGER_UNSET;
    return conf;
}

#define MERGE_STRING(field) merged->field = child->field ? child->field : parent->field
#define MERGE_NUMBER(field) \
    merged->field = child->field != PASSENGER_UNSET ? child->field : parent->field

void* passenger_merge_dir_conf(apr_pool_t* pool, void* parent_, void* child_) {
    passenger_dir_conf_t* parent = parent_;
    passenger_dir_conf_t* child = child_;
    passenger_dir_conf_t* merged = apr_pcalloc(pool, sizeof(*merged));

    MERGE_NUMBER(enabled);
    MERGE_STRING(app_root);
    MERGE_STRING(app_type);
    MERGE_STRING(startup_file);
    MERGE_STRING(app_env);
    MERGE_STRING(nodejs);
    MERGE_STRING(ruby);
    MERGE_STRING(default_ruby);
    MERGE_STRING(python);
    MERGE_STRING(meteor_app_settings);
    MERGE_STRING(app_start_command);
    MERGE_STRING(sticky_sessions_cookie_name);
    MERGE_STRING(base_uris);
    MERGE_NUMBER(sticky_sessions);
    MERGE_NUMBER(rolling_restarts);
    MERGE_NUMBER(resist_deployment_errors);
    MERGE_NUMBER(friendly_error_pages);
    MERGE_NUMBER(min_instances);
    MERGE_NUMBER(max_request_queue_size);
    MERGE_NUMBER(max_requests);
    MERGE_NUMBER(start_timeout);
    MERGE_NUMBER(memory_limit);
    MERGE_NUMBER(max_request_time);
    MERGE_NUMBER(user_switching);
    MERGE_STRING(default_user);
    MERGE_STRING(default_group);
    MERGE_STRING(user);
    MERGE_STRING(group);
    return merged;
}

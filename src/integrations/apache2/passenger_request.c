/*
 * The handler: files under DocumentRoot are left to Apache; every other request of an app goes
 * to the core on a kept-alive Unix connection (passenger_keepalive.c; src/integrations/README.md,
 * "The channel"): the app's settings block, the request's fields, the request head (HTTP/1.1)
 * and its body as Apache reads it. The core buffers bodies (a slow upload holds no app process);
 * passenger_response.c streams the answer to the client, and a 101 becomes a tunnel.
 */
#include "passenger_module.h"

#include "apr_lib.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "util_filter.h"

#include <errno.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_SIZE (64 * 1024)

/* Headers the module frames itself, or that describe the Apache-client connection only. */
static const char* const own_request_headers[] = {"Connection",
                                                  "Keep-Alive",
                                                  "Transfer-Encoding",
                                                  "Content-Length",
                                                  "Expect",
                                                  "Upgrade",
                                                  "TE",
                                                  "Proxy-Connection",
                                                  NULL};
int passenger_listed(const char* const* names, const char* name) {
    for (; *names; names++) {
        if (strcasecmp(*names, name) == 0) return 1;
    }
    return 0;
}

/* A GET or HEAD for a file under DocumentRoot is Apache's to serve (r->finfo: the core's
 * map_to_storage already looked). A folder's index.html was handed to Apache by mod_dir. */
static int names_static_file(request_rec* r) {
    if (r->method_number != M_GET) return 0; /* HEAD is M_GET too */
    return r->finfo.filetype == APR_REG && (r->path_info == NULL || r->path_info[0] == '\0');
}

static int is_upgrade(request_rec* r) {
    const char* connection = apr_table_get(r->headers_in, "Connection");
    return apr_table_get(r->headers_in, "Upgrade") != NULL && connection != NULL &&
           ap_find_token(r->pool, connection, "upgrade");
}

/* Writes all of `data`; `*sent` grows by what the core's socket took (the retry rule asks
 * whether anything of the request reached the core). MSG_NOSIGNAL: a closed core is an error
 * value here, not a SIGPIPE. */
static int send_counted(int fd, const char* data, apr_size_t length, apr_size_t* sent) {
    while (length > 0) {
        ssize_t written = send(fd, data, length, MSG_NOSIGNAL);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        data += written;
        length -= written;
        *sent += written;
    }
    return 0;
}

int passenger_write_all(int fd, const char* data, apr_size_t length) {
    apr_size_t sent = 0;
    return send_counted(fd, data, length, &sent);
}

/* apr_table_do callback: the client's header goes on to the core unless the module frames it. */
static int add_header(void* headers, const char* name, const char* value) {
    if (!passenger_listed(own_request_headers, name)) apr_table_addn(headers, name, value);
    return 1;
}

/* The preamble (settings block, request fields) and the request head the core reads. */
static char* build_request(request_rec* r, const char* block, apr_size_t block_length,
                           apr_off_t body_length, int upgrade, apr_size_t* length) {
    apr_table_t* headers = apr_table_make(r->pool, 16);
    const char* address = r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
    int https = ap_ssl_conn_is_ssl(r->connection);
    /* HTTP/1.1, kept alive; an HTTP/1.0 client's request without Host (which HTTP/1.1 requires)
     * stays HTTP/1.0 and asks for keep-alive: the core then frames by length or closes. */
    int http11 = upgrade || apr_table_get(r->headers_in, "Host") != NULL;
    apr_size_t fields_length = sizeof("client_address") + strlen(address) + 1 +
                               (https ? sizeof("https") + sizeof("on") : 0);
    const apr_array_header_t* entries;
    const apr_table_entry_t* entry;
    char *request_head, *out, *p;
    int i;

    apr_table_do(add_header, headers, r->headers_in, NULL);
    request_head = apr_pstrcat(r->pool, r->method, " ", r->unparsed_uri,
                               http11 ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", NULL);
    entries = apr_table_elts(headers);
    entry = (const apr_table_entry_t*)entries->elts;
    for (i = 0; i < entries->nelts; i++) {
        request_head =
            apr_pstrcat(r->pool, request_head, entry[i].key, ": ", entry[i].val, "\r\n", NULL);
    }
    if (upgrade) {
        request_head = apr_pstrcat(r->pool, request_head, "Connection: upgrade\r\nUpgrade: ",
                                   apr_table_get(r->headers_in, "Upgrade"), "\r\n", NULL);
    } else if (!http11) {
        request_head = apr_pstrcat(r->pool, request_head, "Connection: keep-alive\r\n", NULL);
    }
    if (body_length > 0) {
        request_head =
            apr_pstrcat(r->pool, request_head,
                        "Content-Length: ", apr_off_t_toa(r->pool, body_length), "\r\n", NULL);
    }
    request_head = apr_pstrcat(r->pool, request_head, "\r\n", NULL);

    *length = 4 + block_length + 4 + fields_length + strlen(request_head);
    out = apr_palloc(r->pool, *length);
    p = (char*)passenger_put_length((unsigned char*)out, block_length);
    memcpy(p, block, block_length);
    p = (char*)passenger_put_length((unsigned char*)p + block_length, fields_length);
    memcpy(p, "client_address", sizeof("client_address"));
    p += sizeof("client_address");
    memcpy(p, address, strlen(address) + 1);
    p += strlen(address) + 1;
    if (https) {
        memcpy(p, "https\0on", sizeof("https\0on"));
        p += sizeof("https\0on");
    }
    memcpy(p, request_head, strlen(request_head));
    return out;
}

/* A chunked request body has no length until its end: it waits in a temp file (the core wants a
 * Content-Length on this channel). Returns the file (rewound) and its size, or NULL. */
static apr_file_t* spool_body(request_rec* r, apr_off_t* length) {
    char* buffer = apr_palloc(r->pool, READ_SIZE);
    const char* folder = NULL;
    apr_file_t* file;
    apr_off_t start = 0;
    long n;

    *length = 0;
    if (apr_temp_dir_get(&folder, r->pool) != APR_SUCCESS) return NULL;
    if (apr_file_mktemp(&file, apr_pstrcat(r->pool, folder, "/passenger-body.XXXXXX", NULL),
                        APR_FOPEN_CREATE | APR_FOPEN_READ | APR_FOPEN_WRITE | APR_FOPEN_EXCL |
                            APR_FOPEN_DELONCLOSE,
                        r->pool) != APR_SUCCESS) {
        return NULL;
    }
    while ((n = ap_get_client_block(r, buffer, READ_SIZE)) > 0) {
        apr_size_t size = n;
        if (apr_file_write_full(file, buffer, size, NULL) != APR_SUCCESS) return NULL;
        *length += n;
    }
    if (n < 0) return NULL;
    apr_file_seek(file, APR_SET, &start);
    return file;
}

/* Sends the body: from the spool file (from its start: a retry sends it again), or as Apache
 * reads it from the client (`*consumed` then says that a retry could not send it again). */
static int send_body(request_rec* r, int core_fd, apr_file_t* spooled, apr_size_t* sent,
                     int* consumed) {
    char* buffer = apr_palloc(r->pool, READ_SIZE);
    apr_off_t start = 0;
    long n;

    if (spooled && apr_file_seek(spooled, APR_SET, &start) != APR_SUCCESS) return -1;
    for (;;) {
        if (spooled) {
            apr_size_t size = READ_SIZE;
            apr_status_t status = apr_file_read(spooled, buffer, &size);
            if (status == APR_EOF) return 0;
            if (status != APR_SUCCESS) return -1;
            n = (long)size;
        } else {
            *consumed = 1;
            n = ap_get_client_block(r, buffer, READ_SIZE);
            if (n == 0) return 0;
            if (n < 0) return -1;
        }
        if (send_counted(core_fd, buffer, n, sent) != 0) return -1;
    }
}

/*
 * The retry rule (as in nginx mode, src/integrations/README.md): the core can go away under a
 * cached connection (killed, restarted, stopping). A request that failed on one is sent again,
 * once, on a fresh connection, only when the core cannot have acted on it: no byte of the
 * response arrived, and either nothing of the request reached the core's socket or the method is
 * idempotent (not POST, PATCH, LOCK: nginx's rule). A body already read from the client (not
 * spooled) cannot be sent again.
 */
static int may_retry(request_rec* r, int cached, apr_size_t sent, int body_consumed) {
    int idempotent =
        r->method_number != M_POST && r->method_number != M_PATCH && r->method_number != M_LOCK;
    return cached && !body_consumed && (sent == 0 || idempotent);
}

int passenger_handler(request_rec* r) {
    apr_size_t block_length, request_length;
    const char* block;
    apr_file_t* spooled = NULL;
    apr_off_t body_length = 0;
    int upgrade, status, fresh;
    char* request;

    if (passenger_server_conf()->root == NULL || names_static_file(r)) return DECLINED;
    block = passenger_settings_block(r->pool, r->server, r->per_dir_config, r->uri, &block_length);
    if (block == NULL) return DECLINED; /* no app here: Apache serves as usual */
    upgrade = is_upgrade(r);

    status = ap_setup_client_block(r, REQUEST_CHUNKED_DECHUNK);
    if (status != OK) return status;
    if (ap_should_client_block(r)) {
        const char* declared = apr_table_get(r->headers_in, "Content-Length");
        if (declared != NULL && r->remaining >= 0) {
            body_length = r->remaining;
        } else {
            spooled = spool_body(r, &body_length);
            if (spooled == NULL) return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    request = build_request(r, block, block_length, body_length, upgrade, &request_length);
    /* A retry goes on a fresh connection: the other cached ones may be as stale. */
    for (fresh = 0;; fresh = 1) {
        int cached, responded = 0, body_consumed = 0;
        apr_size_t sent = 0;
        int core_fd = passenger_core_connection(r, fresh, &cached);

        if (core_fd < 0) return HTTP_BAD_GATEWAY;
        if (send_counted(core_fd, request, request_length, &sent) != 0 ||
            (body_length > 0 && send_body(r, core_fd, spooled, &sent, &body_consumed) != 0)) {
            passenger_core_connection_done(core_fd, 0);
            if (may_retry(r, cached, sent, body_consumed)) continue;
            ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "passenger: sending the request failed");
            return HTTP_BAD_GATEWAY;
        }
        status = passenger_relay_response(r, core_fd, &responded); /* gives core_fd back */
        if (status == HTTP_BAD_GATEWAY && !responded && may_retry(r, cached, sent, body_consumed)) {
            continue;
        }
        return status;
    }
}

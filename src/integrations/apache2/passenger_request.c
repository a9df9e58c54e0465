/*
 * The handler: files under DocumentRoot are left to Apache; every other request of an app goes
 * to the core over a fresh Unix connection (src/integrations/README.md, "The channel"): the app's
 * settings block, the request's fields, the request head and its body as Apache reads it. The
 * core buffers bodies (a slow upload holds no app process) and responses; the module streams the
 * answer to the client as it comes, flushing each read, and a 101 becomes a tunnel.
 */
#include "passenger_module.h"

#include "apr_lib.h"
#include "apr_portable.h"
#include "http_protocol.h"
#include "http_request.h"
#include "http_ssl.h"
#include "util_filter.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define HEAD_LIMIT (64 * 1024)
#define READ_SIZE (64 * 1024)
/* Long polls, server-sent events and slow apps wait on the core that long (as in nginx mode). */
#define CORE_READ_TIMEOUT_MS (3600 * 1000)

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
/* The core's headers that Apache sets itself for its own connection to the client. */
static const char* const own_response_headers[] = {
    "Connection",       "Keep-Alive", "Transfer-Encoding",
    "Proxy-Connection", "Date",       "Server",
    "Content-Type",     "Upgrade",    NULL};

static int listed(const char* const* names, const char* name) {
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

static int connect_to_core(request_rec* r) {
    const char* path = passenger_core_socket_path();
    struct sockaddr_un address;
    int fd;

    if (path[0] == '\0' || strlen(path) >= sizeof(address.sun_path)) return -1;
    memset(&address, 0, sizeof(address));
    address.sun_family = AF_UNIX;
    strcpy(address.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    if (connect(fd, (struct sockaddr*)&address, sizeof(address)) != 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "passenger: cannot reach the core at %s",
                      path);
        close(fd);
        return -1;
    }
    return fd;
}

int passenger_write_all(int fd, const char* data, apr_size_t length) {
    while (length > 0) {
        ssize_t written = write(fd, data, length);
        if (written < 0 && errno == EINTR) continue;
        if (written <= 0) return -1;
        data += written;
        length -= written;
    }
    return 0;
}

/* apr_table_do callback: the client's header goes on to the core unless the module frames it. */
static int add_header(void* headers, const char* name, const char* value) {
    if (!listed(own_request_headers, name)) apr_table_addn(headers, name, value);
    return 1;
}

/* The preamble (settings block, request fields) and the request head the core reads. */
static char* build_request(request_rec* r, const char* block, apr_size_t block_length,
                           apr_off_t body_length, int upgrade, apr_size_t* length) {
    apr_table_t* headers = apr_table_make(r->pool, 16);
    const char* address = r->useragent_ip ? r->useragent_ip : r->connection->client_ip;
    int https = ap_ssl_conn_is_ssl(r->connection);
    apr_size_t fields_length = sizeof("client_address") + strlen(address) + 1 +
                               (https ? sizeof("https") + sizeof("on") : 0);
    const apr_array_header_t* entries;
    const apr_table_entry_t* entry;
    char *request_head, *out, *p;
    int i;

    apr_table_do(add_header, headers, r->headers_in, NULL);
    request_head = apr_pstrcat(r->pool, r->method, " ", r->unparsed_uri,
                               upgrade ? " HTTP/1.1\r\n" : " HTTP/1.0\r\n", NULL);
    entries = apr_table_elts(headers);
    entry = (const apr_table_entry_t*)entries->elts;
    for (i = 0; i < entries->nelts; i++) {
        request_head =
            apr_pstrcat(r->pool, request_head, entry[i].key, ": ", entry[i].val, "\r\n", NULL);
    }
    if (upgrade) {
        request_head = apr_pstrcat(r->pool, request_head, "Connection: upgrade\r\nUpgrade: ",
                                   apr_table_get(r->headers_in, "Upgrade"), "\r\n", NULL);
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

/* Sends the body: from the spool file, or as Apache reads it from the client. */
static int send_body(request_rec* r, int core_fd, apr_file_t* spooled) {
    char* buffer = apr_palloc(r->pool, READ_SIZE);
    long n;

    for (;;) {
        if (spooled) {
            apr_size_t size = READ_SIZE;
            apr_status_t status = apr_file_read(spooled, buffer, &size);
            if (status == APR_EOF) return 0;
            if (status != APR_SUCCESS) return -1;
            n = (long)size;
        } else {
            n = ap_get_client_block(r, buffer, READ_SIZE);
            if (n == 0) return 0;
            if (n < 0) return -1;
        }
        if (passenger_write_all(core_fd, buffer, n) != 0) return -1;
    }
}

/* The client's socket, to notice it hang up while the core has nothing to say (a long poll);
 * -1 where there is none (an HTTP/2 stream). */
static int client_fd_of(request_rec* r) {
    apr_socket_t* socket = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;

    if (socket == NULL || apr_os_sock_get(&fd, socket) != APR_SUCCESS) return -1;
    return fd;
}

/* Reads from the core with a timeout; 0 at its end, -1 on an error or timeout, or when the
 * client hung up meanwhile (closing the core's connection then tells the core it left). */
static ssize_t read_core(int fd, int client_fd, char* buffer, apr_size_t size) {
    struct pollfd watched[2] = {{fd, POLLIN, 0}, {client_fd, POLLRDHUP, 0}};
    ssize_t n;

    for (;;) {
        int ready = poll(watched, client_fd >= 0 ? 2 : 1, CORE_READ_TIMEOUT_MS);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return -1;
        if (client_fd >= 0 && watched[1].revents != 0 && watched[0].revents == 0) return -1;
        n = read(fd, buffer, size);
        if (n < 0 && errno == EINTR) continue;
        return n;
    }
}

/* The response head: status line and headers into r; returns the head's length in `buffer`
 * (the bytes after it are the body's), or -1 when the core sent no valid head. Parsing cuts the
 * buffer into strings: a 101's head is kept as it came in `raw` for the tunnel. */
static apr_ssize_t read_response_head(request_rec* r, int core_fd, char* buffer, apr_size_t* used,
                                      char** raw) {
    char *end = NULL, *line, *next, *colon;
    ssize_t n;

    *used = 0;
    while (end == NULL) {
        if (*used == HEAD_LIMIT) return -1;
        n = read_core(core_fd, client_fd_of(r), buffer + *used, HEAD_LIMIT - *used);
        if (n <= 0) return -1;
        *used += n;
        buffer[*used] = '\0';
        end = strstr(buffer, "\r\n\r\n");
    }
    if (strncmp(buffer + 8, " 101", 4) == 0) *raw = apr_pmemdup(r->pool, buffer, *used);
    *end = '\0';
    /* HTTP/1.1 200 OK */
    if (strncmp(buffer, "HTTP/1.", 7) != 0 || strlen(buffer) < 12 || !apr_isdigit(buffer[9])) {
        return -1;
    }
    line = buffer;
    next = strstr(line, "\r\n");
    if (next) *next = '\0';
    r->status = atoi(line + 9);
    r->status_line = apr_pstrdup(r->pool, line + 9);
    for (line = next ? next + 2 : NULL; line != NULL && *line; line = next) {
        next = strstr(line, "\r\n");
        if (next) {
            *next = '\0';
            next += 2;
        }
        colon = strchr(line, ':');
        if (colon == NULL) continue;
        *colon++ = '\0';
        while (*colon == ' ' || *colon == '\t') colon++;
        if (strcasecmp(line, "Content-Type") == 0) {
            ap_set_content_type(r, apr_pstrdup(r->pool, colon));
        } else if (!listed(own_response_headers, line)) {
            apr_table_add(r->headers_out, line, colon);
        }
    }
    return end + 4 - buffer;
}

/* Passes `length` bytes on to the client at once (a flush after each read: streams and long
 * polls reach the client as the app writes them). */
static apr_status_t pass_on(request_rec* r, apr_bucket_brigade* brigade, const char* data,
                            apr_size_t length) {
    apr_bucket_alloc_t* allocator = r->connection->bucket_alloc;
    apr_status_t status;

    APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_transient_create(data, length, allocator));
    APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_flush_create(allocator));
    status = ap_pass_brigade(r->output_filters, brigade);
    apr_brigade_cleanup(brigade);
    return status;
}

static int relay_response(request_rec* r, int core_fd) {
    char* buffer = apr_palloc(r->pool, HEAD_LIMIT + 1);
    apr_bucket_brigade* brigade = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    apr_size_t used;
    char* raw = NULL;
    apr_ssize_t head_length = read_response_head(r, core_fd, buffer, &used, &raw);
    int client_fd = client_fd_of(r);
    ssize_t n;

    if (head_length < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "passenger: the core sent no valid response");
        return HTTP_BAD_GATEWAY;
    }
    if (r->status == HTTP_SWITCHING_PROTOCOLS && raw != NULL) {
        return passenger_relay_upgrade(r, core_fd, raw, used);
    }
    if ((apr_size_t)head_length < used &&
        pass_on(r, brigade, buffer + head_length, used - head_length) != APR_SUCCESS) {
        return OK; /* the client left */
    }
    while ((n = read_core(core_fd, client_fd, buffer, READ_SIZE)) > 0) {
        if (pass_on(r, brigade, buffer, n) != APR_SUCCESS) return OK; /* the client left */
    }
    if (n == 0) {
        APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_eos_create(r->connection->bucket_alloc));
        ap_pass_brigade(r->output_filters, brigade);
    } else {
        /* The core failed mid-response: the client must not take a cut body for a whole one. */
        r->connection->keepalive = AP_CONN_CLOSE;
        r->connection->aborted = 1;
    }
    return OK;
}

int passenger_handler(request_rec* r) {
    apr_size_t block_length, request_length;
    const char* block;
    apr_file_t* spooled = NULL;
    apr_off_t body_length = 0;
    int upgrade, core_fd, status;
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
    core_fd = connect_to_core(r);
    if (core_fd < 0) return HTTP_BAD_GATEWAY;
    request = build_request(r, block, block_length, body_length, upgrade, &request_length);
    if (passenger_write_all(core_fd, request, request_length) != 0 ||
        (body_length > 0 && send_body(r, core_fd, spooled) != 0)) {
        close(core_fd);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, errno, r, "passenger: sending the request failed");
        return HTTP_BAD_GATEWAY;
    }
    status = relay_response(r, core_fd);
    close(core_fd);
    return status;
}

/*
 * The core's response to one request on the channel (version 3, src/integrations/README.md):
 * the head becomes r->status and r->headers_out (Apache frames the body for its client itself),
 * the body is passed on as it arrives, flushed after each read (streams and long polls reach the
 * client as the app writes them), framed by no body, its Content-Length or chunks, so that the
 * connection can carry the next request when the response was read exactly to its end.
 */
#include "passenger_module.h"

#include "apr_lib.h"
#include "apr_portable.h"
#include "http_protocol.h"
#include "util_filter.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define HEAD_LIMIT (64 * 1024)
#define READ_SIZE (64 * 1024)
/* Long polls, server-sent events and slow apps wait on the core that long (as in nginx mode). */
#define CORE_READ_TIMEOUT_MS (3600 * 1000)
/* read_core()'s result when the client hung up first. */
#define CLIENT_LEFT (-2)

/* The core's headers that Apache sets itself for its own connection to the client. */
static const char* const own_response_headers[] = {
    "Connection",       "Keep-Alive", "Transfer-Encoding",
    "Proxy-Connection", "Date",       "Server",
    "Content-Type",     "Upgrade",    NULL};

/* How the body of a response is framed. */
typedef struct {
    apr_off_t length; /* -1: none given */
    int chunked;
    int close;     /* the core said Connection: close */
    int malformed; /* a framing header the module cannot trust */
} framing_t;

/* The client's socket, to notice it hang up while the core has nothing to say (a long poll);
 * -1 where there is none (an HTTP/2 stream). */
static int client_fd_of(request_rec* r) {
    apr_socket_t* socket = ap_get_conn_socket(r->connection);
    apr_os_sock_t fd;

    if (socket == NULL || apr_os_sock_get(&fd, socket) != APR_SUCCESS) return -1;
    return fd;
}

/* Reads from the core with a timeout; 0 at its end, -1 on an error or timeout, CLIENT_LEFT when
 * the client hung up meanwhile (closing the core's connection then tells the core it left). */
static ssize_t read_core(int fd, int client_fd, char* buffer, apr_size_t size) {
    struct pollfd watched[2] = {{fd, POLLIN, 0}, {client_fd, POLLRDHUP, 0}};
    ssize_t n;

    for (;;) {
        int ready = poll(watched, client_fd >= 0 ? 2 : 1, CORE_READ_TIMEOUT_MS);
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return -1;
        if (client_fd >= 0 && watched[1].revents != 0 && watched[0].revents == 0) {
            return CLIENT_LEFT;
        }
        n = read(fd, buffer, size);
        if (n < 0 && errno == EINTR) continue;
        return n;
    }
}

/* A Content-Length: digits only, no overflow; -1 when invalid. */
static apr_off_t parse_length(const char* value) {
    apr_off_t length = 0;

    if (!apr_isdigit(*value)) return -1;
    for (; apr_isdigit(*value); value++) {
        if (length > (APR_INT64_MAX - 9) / 10) return -1;
        length = length * 10 + (*value - '0');
    }
    while (*value == ' ' || *value == '\t') value++;
    return *value == '\0' ? length : -1;
}

static void note_framing(request_rec* r, framing_t* framing, const char* name, const char* value) {
    if (strcasecmp(name, "Content-Length") == 0) {
        apr_off_t length = parse_length(value);
        if (length < 0 || (framing->length >= 0 && framing->length != length)) {
            framing->malformed = 1;
        }
        framing->length = length;
    } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
        /* The core only ever sends "chunked"; any other coding cannot be framed here. */
        if (strcasecmp(value, "chunked") == 0 && !framing->chunked) {
            framing->chunked = 1;
        } else {
            framing->malformed = 1;
        }
    } else if (strcasecmp(name, "Connection") == 0) {
        if (ap_find_token(r->pool, value, "close")) framing->close = 1;
    }
}

/* The response head: status line and headers into r; returns the head's length in `buffer`
 * (the bytes after it are the body's), -1 when the core sent no valid head, or CLIENT_LEFT.
 * `*received` counts the bytes that arrived. Parsing cuts the buffer into strings: a 101's head
 * is kept as it came in `raw` for the tunnel. */
static apr_ssize_t read_response_head(request_rec* r, int core_fd, char* buffer, apr_size_t* used,
                                      char** raw, framing_t* framing) {
    char *end = NULL, *line, *next, *colon;
    ssize_t n;

    *used = 0;
    while (end == NULL) {
        if (*used == HEAD_LIMIT) return -1;
        n = read_core(core_fd, client_fd_of(r), buffer + *used, HEAD_LIMIT - *used);
        if (n == CLIENT_LEFT) return CLIENT_LEFT;
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
        note_framing(r, framing, line, colon);
        if (strcasecmp(line, "Content-Type") == 0) {
            ap_set_content_type(r, apr_pstrdup(r->pool, colon));
        } else if (!passenger_listed(own_response_headers, line)) {
            apr_table_add(r->headers_out, line, colon);
        }
    }
    return end + 4 - buffer;
}

/* Passes `length` bytes on to the client at once. */
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

/* Where the body stands after some bytes of it: more to come, complete, or broken. */
enum { BODY_MORE, BODY_COMPLETE, BODY_BROKEN };

/* Takes `length` bytes of the body: passes them on as the framing says. `*left` is what remains
 * of a sized body. */
static int take_body(request_rec* r, apr_bucket_brigade* brigade, const framing_t* framing,
                     passenger_chunked_t* chunks, apr_off_t* left, const char* data,
                     apr_size_t length) {
    const char* end = data + length;

    if (framing->chunked) {
        while (data < end) {
            const char* piece = NULL;
            apr_size_t piece_length = 0;
            int result = passenger_chunked_parse(chunks, &data, end, &piece, &piece_length);
            if (result == PASSENGER_CHUNKED_ERROR) return BODY_BROKEN;
            if (result == PASSENGER_CHUNKED_DONE) return data == end ? BODY_COMPLETE : BODY_BROKEN;
            if (result == PASSENGER_CHUNKED_DATA && pass_on(r, brigade, piece, piece_length)) {
                return BODY_BROKEN; /* the client left */
            }
        }
        return BODY_MORE;
    }
    if (*left >= 0 && (apr_off_t)length > *left) return BODY_BROKEN; /* more than announced */
    if ((apr_off_t)length == *left) {
        /* The last bytes wait in the brigade for the end (`data` stays put until then): the
         * client must not see the response complete before the core connection is back. */
        APR_BRIGADE_INSERT_TAIL(
            brigade, apr_bucket_transient_create(data, length, r->connection->bucket_alloc));
        *left = 0;
        return BODY_COMPLETE;
    }
    if (pass_on(r, brigade, data, length) != APR_SUCCESS) return BODY_BROKEN;
    if (*left >= 0) *left -= length;
    return *left == 0 ? BODY_COMPLETE : BODY_MORE;
}

int passenger_relay_response(request_rec* r, int core_fd, int* responded) {
    char* buffer = apr_palloc(r->pool, HEAD_LIMIT + 1);
    apr_bucket_brigade* brigade = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    framing_t framing = {-1, 0, 0, 0};
    passenger_chunked_t chunks = {0, 0, 0};
    int client_fd = client_fd_of(r);
    int state = BODY_MORE;
    apr_size_t used;
    char* raw = NULL;
    apr_ssize_t head_length = read_response_head(r, core_fd, buffer, &used, &raw, &framing);
    apr_off_t left;
    ssize_t n = -1;

    *responded = used > 0 || head_length == CLIENT_LEFT;
    if (head_length == CLIENT_LEFT) {
        passenger_core_connection_done(core_fd, 0);
        return OK;
    }
    if (head_length < 0 || framing.malformed || (r->status < 200 && r->status != 101)) {
        passenger_core_connection_done(core_fd, 0);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "passenger: the core sent no valid response");
        return HTTP_BAD_GATEWAY;
    }
    if (r->status == HTTP_SWITCHING_PROTOCOLS && raw != NULL) {
        int status = passenger_relay_upgrade(r, core_fd, raw, used);
        passenger_core_connection_done(core_fd, 0);
        return status;
    }
    /* No body whatever the headers say (RFC 9112 6.3): to HEAD, 204, 304; or a length of 0. */
    if (r->header_only || r->status == HTTP_NO_CONTENT || r->status == HTTP_NOT_MODIFIED ||
        (!framing.chunked && framing.length == 0)) {
        left = 0;
        state = (apr_size_t)head_length == used ? BODY_COMPLETE : BODY_BROKEN;
    } else {
        left = framing.chunked ? -1 : framing.length;
        if ((apr_size_t)head_length < used) {
            state = take_body(r, brigade, &framing, &chunks, &left, buffer + head_length,
                              used - head_length);
        }
    }
    while (state == BODY_MORE) {
        n = read_core(core_fd, client_fd, buffer, READ_SIZE);
        if (n <= 0) break;
        state = take_body(r, brigade, &framing, &chunks, &left, buffer, n);
    }
    /* Read until the end of the connection (neither length nor chunks): complete at its end. */
    if (state == BODY_MORE && n == 0 && !framing.chunked && left < 0) state = BODY_COMPLETE;
    if (state == BODY_COMPLETE) {
        /* Back to the cache before the client can see the end (the last sized bytes and a
         * chunked body's last chunk go with the EOS): the client's next request, which another
         * thread of this child may serve, finds it there. */
        passenger_core_connection_done(core_fd, !framing.close && (framing.chunked || left == 0));
        APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_eos_create(r->connection->bucket_alloc));
        ap_pass_brigade(r->output_filters, brigade);
    } else {
        passenger_core_connection_done(core_fd, 0);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, "passenger: the core's response was cut short");
        if (!r->sent_bodyct) return HTTP_BAD_GATEWAY; /* nothing reached the client yet */
        /* Cut or malformed mid-response: the client must not take a cut body for a whole one. */
        r->connection->keepalive = AP_CONN_CLOSE;
        r->connection->aborted = 1;
    }
    return OK;
}

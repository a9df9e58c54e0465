/*
 * Upgrades (WebSockets): after the app's 101 the module owns the client's connection. The 101
 * head goes out as the core sent it, straight into the connection's filters (below Apache's
 * HTTP layer, which must not add a response of its own), then bytes are relayed both ways until
 * either side closes. The worker thread stays with the connection for its life, as with
 * mod_proxy_wstunnel. Reads from the client go through the connection's input filters: they may
 * hold bytes the client sent right after its request head (and TLS lives there).
 */
#include "passenger_module.h"

#include "apr_portable.h"
#include "http_connection.h"
#include "util_filter.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#define TUNNEL_READ_SIZE (16 * 1024)

static apr_status_t write_to_client(conn_rec* c, apr_bucket_brigade* brigade, const char* data,
                                    apr_size_t length) {
    apr_status_t status;

    APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_transient_create(data, length, c->bucket_alloc));
    APR_BRIGADE_INSERT_TAIL(brigade, apr_bucket_flush_create(c->bucket_alloc));
    status = ap_pass_brigade(c->output_filters, brigade);
    apr_brigade_cleanup(brigade);
    return status;
}

/* Moves what the client sent (without waiting) to the core. Returns 1 while the client's side
 * is open, 0 once it ended (the core's side is then shut for writing), -1 on a failure. */
static int relay_from_client(conn_rec* c, apr_bucket_brigade* brigade, int core_fd) {
    for (;;) {
        apr_status_t status = ap_get_brigade(c->input_filters, brigade, AP_MODE_READBYTES,
                                             APR_NONBLOCK_READ, TUNNEL_READ_SIZE);
        apr_bucket* bucket;
        int ended = 0, got = 0;

        if (APR_STATUS_IS_EAGAIN(status)) return 1;
        if (status == APR_EOF)
            ended = 1;
        else if (status != APR_SUCCESS)
            return -1;
        for (bucket = APR_BRIGADE_FIRST(brigade); bucket != APR_BRIGADE_SENTINEL(brigade);
             bucket = APR_BUCKET_NEXT(bucket)) {
            const char* data;
            apr_size_t length;
            if (APR_BUCKET_IS_EOS(bucket)) {
                ended = 1;
                break;
            }
            if (apr_bucket_read(bucket, &data, &length, APR_BLOCK_READ) != APR_SUCCESS) return -1;
            if (length > 0 && passenger_write_all(core_fd, data, length) != 0) return -1;
            got += length > 0;
        }
        apr_brigade_cleanup(brigade);
        if (ended) {
            shutdown(core_fd, SHUT_WR);
            return 0;
        }
        if (!got) return 1;
    }
}

int passenger_relay_upgrade(request_rec* r, int core_fd, const char* head, apr_size_t length) {
    conn_rec* c = r->connection;
    apr_bucket_brigade* in = apr_brigade_create(r->pool, c->bucket_alloc);
    apr_bucket_brigade* out = apr_brigade_create(r->pool, c->bucket_alloc);
    char* buffer = apr_palloc(r->pool, TUNNEL_READ_SIZE);
    apr_os_sock_t client_fd;
    int client_open = 1;

    apr_os_sock_get(&client_fd, ap_get_conn_socket(c));
    if (write_to_client(c, out, head, length) != APR_SUCCESS) goto done;
    for (;;) {
        struct pollfd watched[2] = {{core_fd, POLLIN, 0}, {client_fd, POLLIN, 0}};
        int ready;

        if (client_open) {
            client_open = relay_from_client(c, in, core_fd);
            if (client_open < 0) break;
        }
        ready = poll(watched, client_open ? 2 : 1, -1);
        if (ready < 0 && errno == EINTR) continue;
        if (ready < 0) break;
        if (watched[0].revents) {
            ssize_t n = read(core_fd, buffer, TUNNEL_READ_SIZE);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0 || write_to_client(c, out, buffer, n) != APR_SUCCESS) break;
        }
    }
done:
    /* Nothing of Apache's may follow on this connection (no final response, no keep-alive). */
    c->keepalive = AP_CONN_CLOSE;
    c->aborted = 1;
    return OK;
}

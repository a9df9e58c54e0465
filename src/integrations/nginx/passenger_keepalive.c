/*
 * The kept-alive channel to the core (channel version 3, src/integrations/README.md): each
 * nginx worker keeps up to PASSENGER_CORE_KEEPALIVE idle connections to the core's socket and
 * gives one to the next request instead of connecting anew. These are the peer hooks of the
 * module's upstream: get takes a cached connection (or asks nginx for a fresh one), free puts
 * it back once its response was read completely, and decides whether a request that failed on
 * a cached connection may be sent again (the retry rule, in allow_retry()).
 */
#include "passenger_module.h"

/* Idle connections per worker: enough for the requests one worker has in flight at once on a
 * busy server; the least recently used one is closed beyond. */
#define PASSENGER_CORE_KEEPALIVE 64
/* Below the core's idle timeout for the module's connections (75 s, --keepalive-timeout): the
 * module, not the core, ends an idle connection, so the core never closes one the module is
 * about to send on. */
#define PASSENGER_CORE_IDLE_TIMEOUT 60000
/* A connection's pool grows a little with each request it carries: renewed now and then. */
#define PASSENGER_CORE_MAX_REQUESTS 10000

typedef struct {
    ngx_queue_t queue;
    ngx_connection_t* connection;
} cached_connection_t;

/* One request's peer: which request, and whether its one retry was used. */
typedef struct {
    ngx_http_request_t* request;
    ngx_flag_t retried;
} core_peer_t;

/* Per worker (each is its own process; the master never fills them). */
static cached_connection_t slots[PASSENGER_CORE_KEEPALIVE];
static ngx_queue_t idle;   /* most recently used first */
static ngx_queue_t unused; /* slots without a connection */
static ngx_flag_t cache_ready;

static ngx_str_t core_name = ngx_string("passenger-core");

static ngx_int_t get_core_peer(ngx_peer_connection_t* pc, void* data);
static void free_core_peer(ngx_peer_connection_t* pc, void* data, ngx_uint_t state);

static void prepare_cache(void) {
    ngx_uint_t i;

    if (cache_ready) return;
    ngx_queue_init(&idle);
    ngx_queue_init(&unused);
    for (i = 0; i < PASSENGER_CORE_KEEPALIVE; i++) {
        ngx_queue_insert_tail(&unused, &slots[i].queue);
    }
    cache_ready = 1;
}

static void close_core_connection(ngx_connection_t* c) {
    if (c->pool != NULL) ngx_destroy_pool(c->pool);
    ngx_close_connection(c);
}

static void forget(cached_connection_t* slot) {
    ngx_queue_remove(&slot->queue);
    ngx_queue_insert_head(&unused, &slot->queue);
    slot->connection = NULL;
}

static void ignore_event(ngx_event_t* ev) {
    (void)ev;
}

/* An idle connection became readable, timed out, or the worker is exiting (nginx sets close on
 * idle connections then). The core sends nothing unasked: end of file, an error or any byte
 * means the connection is unusable. */
static void on_idle_event(ngx_event_t* ev) {
    ngx_connection_t* c = ev->data;
    cached_connection_t* slot = c->data;
    u_char byte;
    ssize_t n;

    if (!c->close && !ev->timedout) {
        n = recv(c->fd, &byte, 1, MSG_PEEK);
        if (n == -1 && ngx_socket_errno == NGX_EAGAIN) {
            ev->ready = 0;
            if (ngx_handle_read_event(c->read, 0) == NGX_OK) return;
        }
    }
    forget(slot);
    close_core_connection(c);
}

static void cache_connection(ngx_connection_t* c) {
    cached_connection_t* slot;
    ngx_queue_t* q;

    if (ngx_queue_empty(&unused)) {
        q = ngx_queue_last(&idle);
        slot = ngx_queue_data(q, cached_connection_t, queue);
        close_core_connection(slot->connection);
        forget(slot);
    }
    q = ngx_queue_head(&unused);
    ngx_queue_remove(q);
    ngx_queue_insert_head(&idle, q);
    slot = ngx_queue_data(q, cached_connection_t, queue);
    slot->connection = c;

    c->read->delayed = 0;
    ngx_add_timer(c->read, PASSENGER_CORE_IDLE_TIMEOUT);
    if (c->write->timer_set) ngx_del_timer(c->write);
    c->read->handler = on_idle_event;
    c->write->handler = ignore_event;
    c->data = slot;
    c->idle = 1;
    c->log = ngx_cycle->log;
    c->read->log = ngx_cycle->log;
    c->write->log = ngx_cycle->log;
    if (c->pool != NULL) c->pool->log = ngx_cycle->log;
    if (c->read->ready) on_idle_event(c->read);
}

ngx_int_t passenger_init_core_peer(ngx_http_request_t* r, ngx_http_upstream_srv_conf_t* us) {
    ngx_http_upstream_t* u = r->upstream;
    core_peer_t* peer;

    (void)us;
    peer = ngx_pcalloc(r->pool, sizeof(core_peer_t));
    if (peer == NULL) return NGX_ERROR;
    peer->request = r;
    u->peer.get = get_core_peer;
    u->peer.free = free_core_peer;
    u->peer.data = peer;
    u->peer.tries = 1;
    return NGX_OK;
}

static ngx_int_t get_core_peer(ngx_peer_connection_t* pc, void* data) {
    core_peer_t* peer = data;
    cached_connection_t* slot;
    ngx_connection_t* c;

    pc->sockaddr = passenger_core_address(&pc->socklen);
    if (pc->sockaddr == NULL) return NGX_ERROR;
    pc->name = &core_name;
    pc->cached = 0;
    pc->connection = NULL;
    prepare_cache();
    /* A retry goes on a fresh connection: the others may be as stale as the one that failed. */
    if (peer->retried || ngx_queue_empty(&idle)) return NGX_OK; /* nginx connects */

    slot = ngx_queue_data(ngx_queue_head(&idle), cached_connection_t, queue);
    c = slot->connection;
    forget(slot);
    c->idle = 0;
    c->sent = 0; /* what reaches the core of this request: allow_retry() */
    c->data = NULL;
    c->log = pc->log;
    c->read->log = pc->log;
    c->write->log = pc->log;
    if (c->pool != NULL) c->pool->log = pc->log;
    if (c->read->timer_set) ngx_del_timer(c->read);
    pc->connection = c;
    pc->cached = 1;
    return NGX_DONE;
}

/*
 * The retry rule. ngx_http_upstream_next() gives a request that failed with an error on a cached
 * connection one more try (it counts pc->cached); this keeps that try only when sending the
 * request again cannot make the app act twice:
 * - the failure came before any byte of the response (the core answered nothing), and
 * - nothing of the request reached the core's socket (c->sent is 0: the write failed, the core
 *   had closed the connection before it), or the method is idempotent (not POST, PATCH, LOCK:
 *   nginx's own rule for proxy_next_upstream).
 * At most one retry per request, on a fresh connection. Anything else is nginx's 502.
 */
static ngx_flag_t allow_retry(core_peer_t* peer, ngx_peer_connection_t* pc) {
    ngx_http_request_t* r = peer->request;
    ngx_http_upstream_t* u = r->upstream;
    ngx_connection_t* c = pc->connection;

    if (!pc->cached || peer->retried || c == NULL) return 0;
    if (u->state != NULL && u->state->bytes_received > 0) return 0;
    if (c->sent > 0 && (r->method & (NGX_HTTP_POST | NGX_HTTP_PATCH | NGX_HTTP_LOCK))) return 0;
    return 1;
}

static void free_core_peer(ngx_peer_connection_t* pc, void* data, ngx_uint_t state) {
    core_peer_t* peer = data;
    ngx_http_upstream_t* u = peer->request->upstream;
    ngx_connection_t* c = pc->connection;

    if (pc->tries > 0) pc->tries--;
    if (state & NGX_PEER_FAILED) {
        if (allow_retry(peer, pc)) {
            peer->retried = 1;
        } else {
            pc->cached = 0; /* no extra try from ngx_http_upstream_next() */
        }
        return;
    }
    /* Back to the cache only when the response was read completely, the core did not say
     * close, and the connection is not a tunnel; nginx closes it otherwise. */
    if (c == NULL || c->read->eof || c->read->error || c->read->timedout || c->write->error ||
        c->write->timedout || !u->keepalive || u->upgrade || !u->request_body_sent ||
        c->requests >= PASSENGER_CORE_MAX_REQUESTS || ngx_terminate || ngx_exiting) {
        return;
    }
    if (ngx_handle_read_event(c->read, 0) != NGX_OK) return;
    prepare_cache();
    cache_connection(c);
    pc->connection = NULL;
}

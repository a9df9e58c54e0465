/*
 * Requests of passenger_enabled locations: files under root are left to nginx; everything else
 * goes to the core through nginx's upstream machinery, preceded by the location's settings block
 * and the request's own fields (src/integrations/README.md), on a kept-alive connection
 * (passenger_keepalive.c). Responses stream (no buffering here: the core buffers for the app),
 * framed by their length or by chunks so the connection can carry the next request; a 101
 * becomes a tunnel.
 */
#include "passenger_module.h"

typedef struct {
    ngx_http_status_t status;
    ngx_http_chunked_t chunked; /* where the parser is in a chunked response body */
} passenger_request_ctx_t;

static ngx_int_t create_request(ngx_http_request_t* r);
static ngx_int_t reinit_request(ngx_http_request_t* r);
static ngx_int_t process_status_line(ngx_http_request_t* r);
static ngx_int_t process_header(ngx_http_request_t* r);
static void abort_request(ngx_http_request_t* r);
static void finalize_request(ngx_http_request_t* r, ngx_int_t rc);
static ngx_int_t has_no_body(ngx_http_request_t* r);
static ngx_int_t start_response_body(void* data);
static ngx_int_t read_sized_body(void* data, ssize_t bytes);
static ngx_int_t read_chunked_body(void* data, ssize_t bytes);

/* Headers the module frames itself (or that describe the nginx-client connection only). */
static ngx_str_t own_headers[] = {ngx_string("Connection"),
                                  ngx_string("Keep-Alive"),
                                  ngx_string("Transfer-Encoding"),
                                  ngx_string("Content-Length"),
                                  ngx_string("Expect"),
                                  ngx_string("Upgrade"),
                                  ngx_string("TE"),
                                  ngx_string("Proxy-Connection"),
                                  ngx_null_string};

ngx_int_t passenger_init_upstream_conf(ngx_conf_t* cf, ngx_http_upstream_conf_t* upstream) {
    static ngx_str_t hidden[] = {ngx_null_string};
    ngx_http_upstream_conf_t parent;
    ngx_hash_init_t hash;

    upstream->connect_timeout = 10000;
    upstream->send_timeout = 600000;
    /* Long polls, server-sent events and idle WebSockets wait on the core that long. */
    upstream->read_timeout = 3600000;
    upstream->buffer_size = (size_t)ngx_pagesize;
    upstream->buffering = 0;
    upstream->request_buffering = 1;
    upstream->ignore_client_abort = 0;
    /* A request gets one try, and one more only where passenger_keepalive.c's retry rule allows
     * it (a cached connection the core had closed): the peer's free hook decides, these masks
     * only let nginx's ngx_http_upstream_next() carry it out. */
    upstream->next_upstream =
        NGX_CONF_BITMASK_SET | NGX_HTTP_UPSTREAM_FT_ERROR | NGX_HTTP_UPSTREAM_FT_NON_IDEMPOTENT;
    upstream->next_upstream_tries = 0;
    upstream->upstream = ngx_pcalloc(cf->pool, sizeof(ngx_http_upstream_srv_conf_t));
    if (upstream->upstream == NULL) return NGX_ERROR;
    upstream->upstream->peer.init = passenger_init_core_peer;
    ngx_str_set(&upstream->upstream->host, "passenger-core");
    upstream->intercept_errors = 0;
    upstream->pass_request_headers = 0; /* create_request writes them */
    upstream->pass_request_body = 1;
    upstream->hide_headers = NGX_CONF_UNSET_PTR;
    upstream->pass_headers = NGX_CONF_UNSET_PTR;
    ngx_memzero(&parent, sizeof(parent));
    parent.hide_headers = NGX_CONF_UNSET_PTR;
    parent.pass_headers = NGX_CONF_UNSET_PTR;
    hash.max_size = 512;
    hash.bucket_size = ngx_align(64, ngx_cacheline_size);
    hash.name = "passenger_hide_headers_hash";
    return ngx_http_upstream_hide_headers_hash(cf, upstream, &parent, hidden, &hash);
}

/* A GET or HEAD for a file (or a folder's index.html) under root is nginx's to serve. */
static ngx_int_t names_static_file(ngx_http_request_t* r) {
    ngx_str_t path;
    size_t root_length;
    u_char* last;
    ngx_file_info_t info;

    if (!(r->method & (NGX_HTTP_GET | NGX_HTTP_HEAD))) return 0;
    last = ngx_http_map_uri_to_path(r, &path, &root_length, sizeof("index.html"));
    if (last == NULL) return 0;
    if (ngx_file_info(path.data, &info) == NGX_FILE_ERROR) return 0;
    if (ngx_is_file(&info)) return 1;
    if (!ngx_is_dir(&info) || r->uri.data[r->uri.len - 1] != '/') return 0;
    ngx_memcpy(last, "index.html", sizeof("index.html"));
    return ngx_file_info(path.data, &info) != NGX_FILE_ERROR && ngx_is_file(&info);
}

ngx_int_t passenger_content_handler(ngx_http_request_t* r) {
    passenger_main_conf_t* mcf = ngx_http_get_module_main_conf(r, ngx_http_passenger_module);
    passenger_request_ctx_t* ctx;
    ngx_http_upstream_t* u;
    socklen_t address_length;
    ngx_int_t rc;

    if (names_static_file(r)) return NGX_DECLINED; /* the static and index modules follow */
    if (passenger_core_address(&address_length) == NULL) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "passenger: the core was not started (see the error log at startup)");
        return NGX_HTTP_SERVICE_UNAVAILABLE;
    }
    if (ngx_http_upstream_create(r) != NGX_OK) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    ctx = ngx_pcalloc(r->pool, sizeof(passenger_request_ctx_t));
    if (ctx == NULL) return NGX_HTTP_INTERNAL_SERVER_ERROR;
    ngx_http_set_ctx(r, ctx, ngx_http_passenger_module);

    /* The core's address and connection come from the upstream's peer hooks. */
    u = r->upstream;
    ngx_str_set(&u->schema, "passenger:");
    u->output.tag = (ngx_buf_tag_t)&ngx_http_passenger_module;
    u->conf = &mcf->upstream;
    u->create_request = create_request;
    u->reinit_request = reinit_request;
    u->process_header = process_status_line;
    u->abort_request = abort_request;
    u->finalize_request = finalize_request;
    u->input_filter_init = start_response_body;
    u->input_filter = read_sized_body;
    u->input_filter_ctx = r;

    rc = ngx_http_read_client_request_body(r, ngx_http_upstream_init);
    if (rc >= NGX_HTTP_SPECIAL_RESPONSE) return rc;
    return NGX_DONE;
}

static ngx_int_t is_own_header(ngx_str_t* name) {
    ngx_str_t* own;

    for (own = own_headers; own->len; own++) {
        if (own->len == name->len && ngx_strncasecmp(own->data, name->data, name->len) == 0) {
            return 1;
        }
    }
    return 0;
}

/* An upgrade (WebSocket) keeps its Upgrade and `Connection: upgrade`. (nginx 1.22 does not keep
 * a pointer to the Connection header: the list is searched.) */
static ngx_int_t is_upgrade(ngx_http_request_t* r) {
    ngx_list_part_t* part = &r->headers_in.headers.part;
    ngx_table_elt_t* header;
    ngx_uint_t i;

    if (r->headers_in.upgrade == NULL) return 0;
    for (;;) {
        header = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (header[i].key.len == sizeof("Connection") - 1 &&
                ngx_strncasecmp(header[i].key.data, (u_char*)"Connection", header[i].key.len) ==
                    0 &&
                ngx_strlcasestrn(header[i].value.data, header[i].value.data + header[i].value.len,
                                 (u_char*)"upgrade", sizeof("upgrade") - 2) != NULL) {
                return 1;
            }
        }
        if (part->next == NULL) return 0;
        part = part->next;
    }
}

static ngx_int_t create_request(ngx_http_request_t* r) {
    passenger_loc_conf_t* lcf = ngx_http_get_module_loc_conf(r, ngx_http_passenger_module);
    ngx_str_t* settings_block = passenger_settings_block_for(r, lcf);
    ngx_http_upstream_t* u = r->upstream;
    ngx_int_t upgrade = is_upgrade(r);
    ngx_int_t http11 = upgrade || r->headers_in.host != NULL;
    off_t body_length = 0;
    size_t request_fields, length;
    ngx_list_part_t* part;
    ngx_table_elt_t* header;
    ngx_chain_t *body, *cl;
    ngx_uint_t i;
    ngx_buf_t* b;
    u_char* fields_start;

    if (r->request_body != NULL) {
        for (body = r->request_body->bufs; body != NULL; body = body->next) {
            body_length += ngx_buf_size(body->buf);
        }
    }
    request_fields = sizeof("client_address") + r->connection->addr_text.len + 1;
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) request_fields += sizeof("https") + sizeof("on");
#endif
    length = 4 + settings_block->len + 4 + request_fields + r->method_name.len + 1 +
             r->unparsed_uri.len + sizeof(" HTTP/1.1\r\n") - 1 +
             /* the longer of the two Connection lines below */
             sizeof("Connection: upgrade\r\nUpgrade: \r\n") - 1 + sizeof("Content-Length: \r\n") -
             1 + NGX_OFF_T_LEN + sizeof("\r\n") - 1;
    if (upgrade) length += r->headers_in.upgrade->value.len;
    part = &r->headers_in.headers.part;
    for (;;) {
        header = part->elts;
        for (i = 0; i < part->nelts; i++) {
            length += header[i].key.len + sizeof(": \r\n") - 1 + header[i].value.len;
        }
        if (part->next == NULL) break;
        part = part->next;
    }

    b = ngx_create_temp_buf(r->pool, length);
    if (b == NULL) return NGX_ERROR;

    b->last = passenger_put_length(b->last, settings_block->len);
    b->last = ngx_cpymem(b->last, settings_block->data, settings_block->len);
    b->last = passenger_put_length(b->last, request_fields);
    fields_start = b->last;
    b->last = ngx_cpymem(b->last, "client_address", sizeof("client_address"));
    b->last = ngx_cpymem(b->last, r->connection->addr_text.data, r->connection->addr_text.len);
    *b->last++ = '\0';
#if (NGX_HTTP_SSL)
    if (r->connection->ssl) b->last = ngx_cpymem(b->last, "https\0on", sizeof("https\0on"));
#endif
    if ((size_t)(b->last - fields_start) != request_fields) return NGX_ERROR;

    b->last = ngx_cpymem(b->last, r->method_name.data, r->method_name.len);
    *b->last++ = ' ';
    b->last = ngx_cpymem(b->last, r->unparsed_uri.data, r->unparsed_uri.len);
    /* HTTP/1.1, kept alive; an HTTP/1.0 client's request without Host (which HTTP/1.1 requires)
     * stays HTTP/1.0 and asks for keep-alive: the core then frames by length or closes. */
    b->last = http11 ? ngx_cpymem(b->last, " HTTP/1.1\r\n", sizeof(" HTTP/1.1\r\n") - 1)
                     : ngx_cpymem(b->last, " HTTP/1.0\r\n", sizeof(" HTTP/1.0\r\n") - 1);
    part = &r->headers_in.headers.part;
    for (;;) {
        header = part->elts;
        for (i = 0; i < part->nelts; i++) {
            if (is_own_header(&header[i].key)) continue;
            b->last = ngx_sprintf(b->last, "%V: %V\r\n", &header[i].key, &header[i].value);
        }
        if (part->next == NULL) break;
        part = part->next;
    }
    if (upgrade) {
        b->last = ngx_sprintf(b->last, "Connection: upgrade\r\nUpgrade: %V\r\n",
                              &r->headers_in.upgrade->value);
    } else if (!http11) {
        b->last = ngx_cpymem(b->last, "Connection: keep-alive\r\n",
                             sizeof("Connection: keep-alive\r\n") - 1);
    }
    if (body_length > 0) b->last = ngx_sprintf(b->last, "Content-Length: %O\r\n", body_length);
    *b->last++ = '\r';
    *b->last++ = '\n';

    cl = ngx_alloc_chain_link(r->pool);
    if (cl == NULL) return NGX_ERROR;
    cl->buf = b;
    u->request_bufs = cl;
    if (r->request_body != NULL) {
        /* The body nginx buffered (memory or its temp file) follows the head. */
        for (body = r->request_body->bufs; body != NULL; body = body->next) {
            cl->next = ngx_alloc_chain_link(r->pool);
            if (cl->next == NULL) return NGX_ERROR;
            cl = cl->next;
            cl->buf = ngx_calloc_buf(r->pool);
            if (cl->buf == NULL) return NGX_ERROR;
            ngx_memcpy(cl->buf, body->buf, sizeof(ngx_buf_t));
        }
    }
    cl->next = NULL;
    b->flush = 1;
    return NGX_OK;
}

static ngx_int_t reinit_request(ngx_http_request_t* r) {
    passenger_request_ctx_t* ctx = ngx_http_get_module_ctx(r, ngx_http_passenger_module);

    if (ctx == NULL) return NGX_OK;
    ngx_memzero(&ctx->status, sizeof(ctx->status));
    ngx_memzero(&ctx->chunked, sizeof(ctx->chunked));
    r->upstream->process_header = process_status_line;
    r->upstream->input_filter = read_sized_body;
    r->state = 0;
    return NGX_OK;
}

static ngx_int_t process_status_line(ngx_http_request_t* r) {
    passenger_request_ctx_t* ctx = ngx_http_get_module_ctx(r, ngx_http_passenger_module);
    ngx_http_upstream_t* u = r->upstream;
    ngx_int_t rc;

    rc = ngx_http_parse_status_line(r, &u->buffer, &ctx->status);
    if (rc == NGX_AGAIN) return rc;
    if (rc == NGX_ERROR) {
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "passenger: the core sent an invalid status line");
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
    u->headers_in.status_n = ctx->status.code;
    if (u->state && u->state->status == 0) u->state->status = ctx->status.code;
    u->headers_in.status_line.len = ctx->status.end - ctx->status.start;
    u->headers_in.status_line.data = ngx_pnalloc(r->pool, u->headers_in.status_line.len);
    if (u->headers_in.status_line.data == NULL) return NGX_ERROR;
    ngx_memcpy(u->headers_in.status_line.data, ctx->status.start, u->headers_in.status_line.len);
    u->process_header = process_header;
    return process_header(r);
}

static ngx_int_t process_header(ngx_http_request_t* r) {
    ngx_http_upstream_main_conf_t* umcf =
        ngx_http_get_module_main_conf(r, ngx_http_upstream_module);
    ngx_http_upstream_t* u = r->upstream;
    ngx_http_upstream_header_t* hh;
    ngx_table_elt_t* h;
    ngx_int_t rc;

    for (;;) {
        rc = ngx_http_parse_header_line(r, &u->buffer, 1);
        if (rc == NGX_OK) {
            h = ngx_list_push(&u->headers_in.headers);
            if (h == NULL) return NGX_ERROR;
            h->hash = r->header_hash;
            h->key.len = r->header_name_end - r->header_name_start;
            h->value.len = r->header_end - r->header_start;
            h->key.data = ngx_pnalloc(r->pool, h->key.len + 1 + h->value.len + 1 + h->key.len);
            if (h->key.data == NULL) return NGX_ERROR;
            h->value.data = h->key.data + h->key.len + 1;
            h->lowcase_key = h->value.data + h->value.len + 1;
            ngx_memcpy(h->key.data, r->header_name_start, h->key.len);
            h->key.data[h->key.len] = '\0';
            ngx_memcpy(h->value.data, r->header_start, h->value.len);
            h->value.data[h->value.len] = '\0';
            if (h->key.len == r->lowcase_index) {
                ngx_memcpy(h->lowcase_key, r->lowcase_header, h->key.len);
            } else {
                ngx_strlow(h->lowcase_key, h->key.data, h->key.len);
            }
            hh = ngx_hash_find(&umcf->headers_in_hash, h->hash, h->lowcase_key, h->key.len);
            if (hh != NULL && hh->handler(r, h, hh->offset) != NGX_OK) return NGX_ERROR;
            continue;
        }
        if (rc == NGX_HTTP_PARSE_HEADER_DONE) {
            /* 101 Switching Protocols turns the connection into a two-way tunnel, never cached. */
            if (u->headers_in.status_n == NGX_HTTP_SWITCHING_PROTOCOLS) {
                u->keepalive = 0;
                if (r->headers_in.upgrade != NULL) u->upgrade = 1;
            } else if (u->headers_in.status_n >= 200 && has_no_body(r)) {
                /* Complete already: nginx may finish a header-only response (HEAD, 204, 304)
                 * without reading a body, so its connection is reusable from here. (The core
                 * sends no interim 1xx: one would leave the final response unread, so its
                 * connection is never reused.) */
                u->keepalive = !u->headers_in.connection_close;
            }
            return NGX_OK;
        }
        if (rc == NGX_AGAIN) return NGX_AGAIN;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "passenger: the core sent an invalid header line");
        return NGX_HTTP_UPSTREAM_INVALID_HEADER;
    }
}

/* A response without a body whatever its headers say (RFC 9112 6.3): to HEAD, 1xx, 204, 304;
 * or with a Content-Length of 0. */
static ngx_int_t has_no_body(ngx_http_request_t* r) {
    ngx_http_upstream_t* u = r->upstream;
    ngx_uint_t status = u->headers_in.status_n;

    return r->method == NGX_HTTP_HEAD || status < 200 || status == NGX_HTTP_NO_CONTENT ||
           status == NGX_HTTP_NOT_MODIFIED ||
           (!u->headers_in.chunked && u->headers_in.content_length_n == 0);
}

/* The response's framing (channel version 3): no body, chunked, a Content-Length, or (only
 * when the core closes after it) until the end of the connection. u->length is what is left
 * to read (-1: until the end; for chunks, 1 until the last one arrived). */
static ngx_int_t start_response_body(void* data) {
    ngx_http_request_t* r = data;
    ngx_http_upstream_t* u = r->upstream;

    if (has_no_body(r)) {
        u->length = 0;
    } else if (u->headers_in.chunked) {
        u->input_filter = read_chunked_body;
        u->length = 1;
    } else {
        u->length = u->headers_in.content_length_n; /* -1 when absent */
    }
    return NGX_OK;
}

/* A body of known length (or read until the core closes): nginx's own filter passes the bytes
 * on; the connection is reusable once exactly the announced length arrived. */
static ngx_int_t read_sized_body(void* data, ssize_t bytes) {
    ngx_http_request_t* r = data;
    ngx_http_upstream_t* u = r->upstream;
    off_t expected = u->length;

    if (ngx_http_upstream_non_buffered_filter(data, bytes) != NGX_OK) return NGX_ERROR;
    if (expected > 0 && u->length == 0) {
        u->keepalive = bytes == expected && !u->headers_in.connection_close;
    }
    return NGX_OK;
}

/* A chunked body: nginx's chunk parser finds each chunk's data in the buffer, which goes on to
 * the client as it is (nginx chunks it again for the client when needed). The connection is
 * reusable once the last chunk and trailer arrived and nothing followed them. */
static ngx_int_t read_chunked_body(void* data, ssize_t bytes) {
    ngx_http_request_t* r = data;
    passenger_request_ctx_t* ctx = ngx_http_get_module_ctx(r, ngx_http_passenger_module);
    ngx_http_upstream_t* u = r->upstream;
    ngx_buf_t* in = &u->buffer;
    ngx_chain_t *cl, **last;
    ngx_int_t rc;
    off_t piece;

    in->pos = in->last; /* the new bytes start where the previous read ended */
    in->last += bytes;
    for (last = &u->out_bufs; *last != NULL; last = &(*last)->next) {
    }
    for (;;) {
        rc = ngx_http_parse_chunked(r, in, &ctx->chunked);
        if (rc == NGX_OK) { /* chunk data at in->pos, ctx->chunked.size bytes of it left */
            piece = ngx_min(ctx->chunked.size, (off_t)(in->last - in->pos));
            cl = ngx_chain_get_free_buf(r->pool, &u->free_bufs);
            if (cl == NULL) return NGX_ERROR;
            cl->buf->flush = 1;
            cl->buf->memory = 1;
            cl->buf->tag = u->output.tag;
            cl->buf->pos = in->pos;
            in->pos += piece;
            cl->buf->last = in->pos;
            ctx->chunked.size -= piece;
            *last = cl;
            last = &cl->next;
            continue;
        }
        if (rc == NGX_DONE) {
            u->length = 0;
            u->keepalive = in->pos == in->last && !u->headers_in.connection_close;
            return NGX_OK;
        }
        if (rc == NGX_AGAIN) return NGX_OK;
        ngx_log_error(NGX_LOG_ERR, r->connection->log, 0,
                      "passenger: the core sent an invalid chunked body");
        return NGX_ERROR;
    }
}

static void abort_request(ngx_http_request_t* r) {
    (void)r;
}

static void finalize_request(ngx_http_request_t* r, ngx_int_t rc) {
    (void)r;
    (void)rc;
}

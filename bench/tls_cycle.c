// tls_cycle: a closed-loop HTTPS client that times what a user sees per connection, from the
// start of connect() to the end of the response, and its parts. N connections at once, each
// over and over: connect, TLS handshake, one `GET PATH` with `Connection: close`, read to EOF.
// wrk's latency starts when the request is written, after connect and handshake, so it cannot
// tell a server that keeps new clients waiting in its accept queue from one that keeps them
// waiting for the response; this client can.
//
//   tls_cycle [-c CONNECTIONS] [-d SECONDS] [-p PATH] [-n] HOST PORT
//   -n: a new session every time (a full handshake with its signature); by default each
//       connection resumes the session its previous one got, as wrk does.
//
// Prints one line of totals, then one line per part (milliseconds):
//   requests R errors E resumed M seconds S rps X
//   cycle p50 A p90 B p99 C max D          connect() start -> response read to EOF
//   connect ...                             connect() start -> TCP connected
//   handshake ...                           TCP connected -> TLS handshake done
//   request ...                             request written -> response read to EOF
// Build: cc -O2 -o tls_cycle tls_cycle.c -lssl -lcrypto (bench/tls.sh does).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { CONNECTING, HANDSHAKING, WRITING, READING };

struct connection {
    int fd;
    SSL* ssl;
    SSL_SESSION* session;  // the one to resume next time (-n: none)
    enum state state;
    uint32_t events;  // what epoll waits for on fd
    double started, connected, handshaken, written;
    size_t sent;
    int status_seen;  // the response began with "HTTP/1.x 200"
    char head[16];
    size_t head_length;
};

struct samples {
    double* values;
    size_t count, capacity;
};

static SSL_CTX* context;
static struct sockaddr_storage address;
static socklen_t address_length;
static int epoll_fd;
static int fresh_sessions;
static char request[512];
static size_t request_length;
static long errors, resumed;
static struct samples cycle, connect_part, handshake_part, request_part;

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void add(struct samples* s, double value) {
    if (s->count == s->capacity) {
        s->capacity = s->capacity ? s->capacity * 2 : 4096;
        s->values = realloc(s->values, s->capacity * sizeof *s->values);
        if (!s->values) abort();
    }
    s->values[s->count++] = value;
}

static void watch(struct connection* c, uint32_t events) {
    if (c->events == events) return;
    struct epoll_event event = {.events = events, .data.ptr = c};
    epoll_ctl(epoll_fd, c->events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &event);
    c->events = events;
}

static void start(struct connection* c) {
    c->fd = socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        perror("socket");
        exit(1);
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->events = 0;
    c->sent = 0;
    c->status_seen = 0;
    c->head_length = 0;
    c->started = now_ms();
    c->state = CONNECTING;
    if (connect(c->fd, (struct sockaddr*)&address, address_length) < 0 && errno != EINPROGRESS) {
        perror("connect");
        exit(1);
    }
    watch(c, EPOLLOUT);
}

static void finish(struct connection* c, int ok) {
    if (ok) {
        double end = now_ms();
        add(&cycle, end - c->started);
        add(&connect_part, c->connected - c->started);
        add(&handshake_part, c->handshaken - c->connected);
        add(&request_part, end - c->written);
        if (SSL_session_reused(c->ssl)) resumed++;
    } else {
        errors++;
    }
    // Marked shut down (nothing is sent: the server closed already), or SSL_free would take the
    // session as a bad one and make it not resumable.
    if (c->ssl && ok) SSL_set_shutdown(c->ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(c->ssl);
    c->ssl = NULL;
    close(c->fd);  // removes it from the epoll set
}

// Waits for what OpenSSL wants, or fails the connection on anything else.
static int wait_for(struct connection* c, int result) {
    switch (SSL_get_error(c->ssl, result)) {
        case SSL_ERROR_WANT_READ:
            watch(c, EPOLLIN);
            return 1;
        case SSL_ERROR_WANT_WRITE:
            watch(c, EPOLLOUT);
            return 1;
        default:
            ERR_clear_error();
            return 0;
    }
}

// Moves the connection on as far as it goes without waiting; 0 when it ended (either way).
static int step(struct connection* c) {
    int result;
    switch (c->state) {
        case CONNECTING: {
            int error = 0;
            socklen_t length = sizeof error;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &error, &length);
            if (error != 0) return finish(c, 0), 0;
            c->connected = now_ms();
            c->ssl = SSL_new(context);
            SSL_set_fd(c->ssl, c->fd);
            SSL_set_app_data(c->ssl, c);
            SSL_set_tlsext_host_name(c->ssl, "localhost");
            if (c->session) SSL_set_session(c->ssl, c->session);
            c->state = HANDSHAKING;
        }
        /* fall through */
        case HANDSHAKING:
            result = SSL_connect(c->ssl);
            if (result != 1) return wait_for(c, result) ? 1 : (finish(c, 0), 0);
            c->handshaken = c->written = now_ms();
            c->state = WRITING;
        /* fall through */
        case WRITING:
            while (c->sent < request_length) {
                size_t written = 0;
                result = SSL_write_ex(c->ssl, request + c->sent, request_length - c->sent, &written);
                if (result != 1) return wait_for(c, result) ? 1 : (finish(c, 0), 0);
                c->sent += written;
            }
            c->state = READING;
        /* fall through */
        case READING:
            for (;;) {
                char buffer[16384];
                size_t got = 0;
                result = SSL_read_ex(c->ssl, buffer, sizeof buffer, &got);
                if (result == 1) {
                    size_t take = sizeof c->head - c->head_length;
                    if (take > got) take = got;
                    memcpy(c->head + c->head_length, buffer, take);
                    c->head_length += take;
                    if (c->head_length >= 12)
                        c->status_seen = !memcmp(c->head, "HTTP/1.", 7) && !memcmp(c->head + 8, " 200", 4);
                    continue;
                }
                int error = SSL_get_error(c->ssl, result);
                if (error == SSL_ERROR_WANT_READ || error == SSL_ERROR_WANT_WRITE)
                    return wait_for(c, result) ? 1 : (finish(c, 0), 0);
                // The end: close_notify, or the TCP close without it (what most servers do).
                ERR_clear_error();
                finish(c, c->status_seen);
                return 0;
            }
    }
    return 1;
}

static int compare(const void* a, const void* b) {
    double x = *(const double*)a, y = *(const double*)b;
    return x < y ? -1 : x > y;
}

static void report(const char* name, struct samples* s) {
    if (s->count == 0) {
        printf("%s p50 - p90 - p99 - max -\n", name);
        return;
    }
    qsort(s->values, s->count, sizeof *s->values, compare);
#define AT(q) s->values[(size_t)((q) * (s->count - 1))]
    printf("%s p50 %.3f p90 %.3f p99 %.3f max %.3f\n", name, AT(0.5), AT(0.9), AT(0.99),
           s->values[s->count - 1]);
#undef AT
}

// OpenSSL's new-session callback: the connection keeps the session (1: the reference is ours).
static int keep_session(SSL* ssl, SSL_SESSION* session) {
    struct connection* c = SSL_get_app_data(ssl);
    if (c->session) SSL_SESSION_free(c->session);
    c->session = session;
    return 1;
}

static void usage(void) {
    fprintf(stderr, "usage: tls_cycle [-c CONNECTIONS] [-d SECONDS] [-p PATH] [-n] HOST PORT\n");
    exit(2);
}

int main(int argc, char** argv) {
    int connections = 50;
    double seconds = 3;
    const char* path = "/";
    int option;
    while ((option = getopt(argc, argv, "c:d:p:n")) != -1) {
        switch (option) {
            case 'c': connections = atoi(optarg); break;
            case 'd': seconds = atof(optarg); break;
            case 'p': path = optarg; break;
            case 'n': fresh_sessions = 1; break;
            default: usage();
        }
    }
    if (argc - optind != 2 || connections < 1 || seconds <= 0) usage();
    const char* host = argv[optind];
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *found = NULL;
    if (getaddrinfo(host, argv[optind + 1], &hints, &found) != 0 || !found) {
        fprintf(stderr, "tls_cycle: cannot resolve %s\n", host);
        return 1;
    }
    memcpy(&address, found->ai_addr, found->ai_addrlen);
    address_length = found->ai_addrlen;
    freeaddrinfo(found);
    request_length = (size_t)snprintf(request, sizeof request,
                                      "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n",
                                      path, host);

    context = SSL_CTX_new(TLS_client_method());
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    SSL_CTX_set_verify(context, SSL_VERIFY_NONE, NULL);
    // Each connection keeps the last session its server gave it (a TLS 1.3 ticket arrives after
    // the handshake), as wrk's connections do; none with -n.
    if (!fresh_sessions) {
        SSL_CTX_set_session_cache_mode(context,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(context, keep_session);
    }
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);

    struct connection* all = calloc((size_t)connections, sizeof *all);
    for (int i = 0; i < connections; i++) start(&all[i]);
    const double begin = now_ms(), end = begin + seconds * 1e3;
    struct epoll_event events[256];
    double now = begin;
    while (now < end) {
        int ready = epoll_wait(epoll_fd, events, 256, (int)(end - now) + 1);
        if (ready < 0 && errno != EINTR) {
            perror("epoll_wait");
            return 1;
        }
        for (int i = 0; i < ready; i++) {
            struct connection* c = events[i].data.ptr;
            if (!step(c)) start(c);
        }
        now = now_ms();
    }
    const double elapsed = (now - begin) / 1e3;
    printf("requests %zu errors %ld resumed %ld seconds %.2f rps %.1f\n", cycle.count, errors,
           resumed, elapsed, cycle.count / elapsed);
    report("cycle", &cycle);
    report("connect", &connect_part);
    report("handshake", &handshake_part);
    report("request", &request_part);
    return 0;
}

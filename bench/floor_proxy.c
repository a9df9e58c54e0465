// floor_proxy: the least work a proxy in front of app processes can do per request, to measure
// what the kernel alone costs (bench/threads.sh's "floor" row; issue 17's CPU target is judged
// against it). One thread, one edge-triggered epoll set; every client connection gets its own
// connection to an app (round robin over the Unix sockets given, opened when the client
// connects), and bytes are copied both ways as they come: no HTTP parsing, no header rewriting,
// no pool, no timeouts, no limits. Not a server anyone should run: it exists to be a lower bound.
//
// Per request it makes the four transfers any proxy needs (the client's request in, to the app,
// the response in, to the client) and its share of epoll_wait. A read shorter than the buffer
// ends the reading (the socket is drained; new bytes raise a new edge), so no read fails with
// EAGAIN, as the core's reads do today (bench/RESULTS.md "Deferred receives").
//
//   floor_proxy PORT SOCKET_PATH...
// Build: cc -O2 -o floor_proxy floor_proxy.c (bench/threads.sh does).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum { buffer_size = 16384, max_events = 128 };

// One side of a client/app pair; `peer` is the other side. Bytes the peer could not take yet
// wait in `pending` (rare for small responses; handled so that the relay stays correct).
struct end {
    int fd;
    struct end* peer;
    char* pending;
    size_t pending_length;
};

static int epoll_fd;
static char buffer[buffer_size];

static void die(const char* what) {
    perror(what);
    exit(1);
}

// Closes both ends at once; their memory is freed after the batch of events (`closed`), since
// the peer's own event may be later in the same batch.
static struct end* closed[max_events];
static int closed_count;

static void close_pair(struct end* end) {
    struct end* peer = end->peer;
    close(end->fd);
    close(peer->fd);
    end->fd = peer->fd = -1;
    closed[closed_count++] = end < peer ? end : peer;  // both ends are one allocation
}

static void free_closed(void) {
    for (int i = 0; i < closed_count; ++i) {
        free(closed[i][0].pending);
        free(closed[i][1].pending);
        free(closed[i]);
    }
    closed_count = 0;
}

// Writes `data` to `to`, keeping what it does not take; false when `to` failed.
static int send_all(struct end* to, const char* data, size_t length) {
    if (to->pending_length > 0) {  // keep the order: after what waits already
        to->pending = realloc(to->pending, to->pending_length + length);
        memcpy(to->pending + to->pending_length, data, length);
        to->pending_length += length;
        return 1;
    }
    ssize_t sent = send(to->fd, data, length, MSG_NOSIGNAL);
    if (sent < 0) {
        if (errno != EAGAIN) return 0;
        sent = 0;
    }
    if ((size_t)sent < length) {
        to->pending = malloc(length - sent);
        memcpy(to->pending, data + sent, length - sent);
        to->pending_length = length - sent;
    }
    return 1;
}

static int flush_pending(struct end* end) {
    if (end->pending_length == 0) return 1;
    ssize_t sent = send(end->fd, end->pending, end->pending_length, MSG_NOSIGNAL);
    if (sent < 0) return errno == EAGAIN;
    memmove(end->pending, end->pending + sent, end->pending_length - sent);
    end->pending_length -= sent;
    return 1;
}

// Reads what `from` has and passes it on; false when the pair is done. After a hang-up it reads
// on to the end (no further edge would come).
static int relay(struct end* from, int hung_up) {
    for (;;) {
        ssize_t got = recv(from->fd, buffer, sizeof buffer, 0);
        if (got == 0) return 0;
        if (got < 0) return errno == EAGAIN;
        if (!send_all(from->peer, buffer, (size_t)got)) return 0;
        if ((size_t)got < sizeof buffer && !hung_up) return 1;  // drained: the next bytes raise a new edge
    }
}

static int connect_app(const char* path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un address = {.sun_family = AF_UNIX};
    strncpy(address.sun_path, path, sizeof address.sun_path - 1);
    // Blocking connect (a local socket answers at once), then non-blocking for the relay.
    if (fd < 0 || connect(fd, (struct sockaddr*)&address, sizeof address) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    int one = 1;
    ioctl(fd, FIONBIO, &one);
    return fd;
}

static void watch(struct end* end) {
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET,
                                .data.ptr = end};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, end->fd, &event) != 0) die("epoll_ctl");
}

int main(int argc, char** argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: floor_proxy PORT SOCKET_PATH...\n");
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    const int app_count = argc - 2;
    int next_app = 0;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[1])),
                                  .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(listener, (struct sockaddr*)&address, sizeof address) != 0) die("bind");
    if (listen(listener, SOMAXCONN) != 0) die("listen");
    epoll_fd = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event listen_event = {.events = EPOLLIN | EPOLLET, .data.ptr = NULL};
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, listener, &listen_event) != 0) die("epoll_ctl");

    struct epoll_event events[max_events];
    for (;;) {
        int count = epoll_wait(epoll_fd, events, max_events, -1);
        if (count < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < count; ++i) {
            struct end* end = events[i].data.ptr;
            if (end == NULL) {  // new clients
                int client;
                while ((client = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >=
                       0) {
                    setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    int app = connect_app(argv[2 + next_app]);
                    next_app = (next_app + 1) % app_count;
                    if (app < 0) {
                        close(client);
                        continue;
                    }
                    struct end* pair = calloc(2, sizeof *pair);
                    pair[0] = (struct end){.fd = client, .peer = &pair[1]};
                    pair[1] = (struct end){.fd = app, .peer = &pair[0]};
                    watch(&pair[0]);
                    watch(&pair[1]);
                }
                continue;
            }
            if (end->fd < 0) continue;  // its pair closed earlier in this batch
            const uint32_t flags = events[i].events;
            const int hung_up = (flags & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0;
            int open = 1;
            if (flags & EPOLLOUT) open = flush_pending(end);
            if (open && ((flags & EPOLLIN) || hung_up)) open = relay(end, hung_up);
            if (!open) close_pair(end);
        }
        free_closed();
    }
}

/*
 * The kept-alive channel to the core (channel version 3, src/integrations/README.md): each Apache
 * child keeps up to CACHE_SIZE idle connections to the core's socket, shared by its threads
 * under a mutex, and hands the most recently used one to the next request instead of connecting
 * anew. The handler gives a connection back only when its response was read exactly to its end.
 */
#include "passenger_module.h"

#include "apr_thread_mutex.h"
#include "apr_time.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Idle connections per child: more than the threads of a default event MPM child (25) have in
 * flight; the least recently used one is closed beyond. */
#define CACHE_SIZE 64
/* Below the core's idle timeout for module connections (75 s): the module, not the core, ends
 * an idle connection, so the core never closes one the module is about to send on. */
#define IDLE_TIMEOUT apr_time_from_sec(60)

typedef struct {
    int fd;
    apr_time_t idle_since;
} idle_connection_t;

/* Per child process; oldest first. */
static idle_connection_t idle[CACHE_SIZE];
static int idle_count;
static apr_thread_mutex_t* lock;

static void drop_oldest(void) {
    close(idle[0].fd);
    idle_count--;
    memmove(idle, idle + 1, idle_count * sizeof(idle[0]));
}

/* Closes the connections idle for longer than IDLE_TIMEOUT (called under the lock). */
static void drop_expired(apr_time_t now) {
    while (idle_count > 0 && now - idle[0].idle_since > IDLE_TIMEOUT) drop_oldest();
}

static apr_status_t close_all(void* unused) {
    (void)unused;
    while (idle_count > 0) drop_oldest();
    lock = NULL;
    return APR_SUCCESS;
}

void passenger_keepalive_init(apr_pool_t* pchild) {
    if (apr_thread_mutex_create(&lock, APR_THREAD_MUTEX_DEFAULT, pchild) != APR_SUCCESS) {
        lock = NULL; /* no cache: a connection per request */
        return;
    }
    apr_pool_cleanup_register(pchild, NULL, close_all, apr_pool_cleanup_null);
}

/* The core sends nothing unasked: an idle connection that is readable (end of file, an error,
 * or a stray byte) is unusable. */
static int still_usable(int fd) {
    char byte;
    ssize_t n = recv(fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

static int take_cached(void) {
    int fd = -1;

    if (lock == NULL || apr_thread_mutex_lock(lock) != APR_SUCCESS) return -1;
    drop_expired(apr_time_now());
    while (fd < 0 && idle_count > 0) {
        fd = idle[--idle_count].fd;
        if (!still_usable(fd)) {
            close(fd);
            fd = -1;
        }
    }
    apr_thread_mutex_unlock(lock);
    return fd;
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

int passenger_core_connection(request_rec* r, int fresh, int* cached) {
    int fd = fresh ? -1 : take_cached();

    *cached = fd >= 0;
    return fd >= 0 ? fd : connect_to_core(r);
}

void passenger_core_connection_done(int fd, int reusable) {
    if (!reusable || lock == NULL || apr_thread_mutex_lock(lock) != APR_SUCCESS) {
        close(fd);
        return;
    }
    apr_time_t now = apr_time_now();
    drop_expired(now);
    if (idle_count == CACHE_SIZE) drop_oldest();
    idle[idle_count].fd = fd;
    idle[idle_count].idle_since = now;
    idle_count++;
    apr_thread_mutex_unlock(lock);
}

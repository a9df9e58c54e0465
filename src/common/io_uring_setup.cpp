// Two corrections to Asio 1.22's io_uring backend (Debian 12's Asio), made where it calls
// liburing: these definitions replace liburing's for the calls in this binary (Asio's code is
// compiled into our translation units), and call liburing's other entry points.
//
// 1. io_uring_queue_init: Asio makes its ring with flags 0, so a completion reaches a loop
//    thread that is running our code by task work signalled like a signal (an interrupt into
//    the kernel, an IPI when the completing CPU is another), once per completion. Cooperative
//    task running instead runs it when the thread next enters the kernel (each loop turn
//    submits, or peeks, and liburing's peek enters when the kernel flags pending work:
//    IORING_SETUP_TASKRUN_FLAG, honoured since liburing 2.2).
// 2. io_uring_submit: Asio prepares its cancellations (IORING_OP_ASYNC_CANCEL) without setting
//    the entry's user data, and liburing does not clear a reused entry, so a cancellation's
//    completion carries the user data of whatever operation used that ring slot 16,384 entries
//    earlier: Asio completes that socket's pending operation with the cancellation's result (a
//    receive ends with 0 bytes, read as the peer closing; or the socket is gone: freed memory).
//    Fixed upstream in Asio 1.27 (chriskohlhoff/asio#1215); here each unsubmitted cancellation
//    gets user data 0, which Asio's completion loop skips.
#ifdef PASSENGER_IO_URING

#include <liburing.h>

extern "C" int io_uring_queue_init(unsigned entries, struct io_uring* ring, unsigned flags) {
    io_uring_params params{};
    params.flags = flags | IORING_SETUP_COOP_TASKRUN | IORING_SETUP_TASKRUN_FLAG;
    int result = io_uring_queue_init_params(entries, ring, &params);
    if (result != -EINVAL) return result;
    params = io_uring_params{};  // a kernel before 5.19: the default setup
    params.flags = flags;
    return io_uring_queue_init_params(entries, ring, &params);
}

extern "C" int io_uring_submit(struct io_uring* ring) {
    io_uring_sq& queue = ring->sq;
    for (unsigned i = queue.sqe_head; i != queue.sqe_tail; ++i) {
        io_uring_sqe& entry = queue.sqes[i & queue.ring_mask];
        if (entry.opcode == IORING_OP_ASYNC_CANCEL) entry.user_data = 0;
    }
    return io_uring_submit_and_wait(ring, 0);  // what liburing's io_uring_submit does
}

#endif

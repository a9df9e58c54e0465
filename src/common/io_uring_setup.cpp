// Asio 1.22 makes its ring with io_uring_queue_init(entries, ring, 0): completions then reach
// a loop thread that is running our code by task work signalled like a signal (an interrupt
// into the kernel, an IPI when the completing CPU is another), once per completion. This
// definition replaces liburing's for the calls in this binary (Asio's are in our translation
// units) and asks for cooperative task running: the kernel runs completions' task work when
// the thread next enters it (each loop turn submits, or peeks, which enters when the kernel
// flags pending work: IORING_SETUP_TASKRUN_FLAG, which liburing's peek honours since 2.2).
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

#endif

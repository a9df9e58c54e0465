// Running a function on another event loop from a coroutine, and getting its result back on the
// caller's loop (common/event_loops.hpp: the pool and the apps are the main loop's).
#pragma once

#include <asio/awaitable.hpp>
#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>
#include <asio/use_awaitable.hpp>

#include <type_traits>

namespace passenger {

// Runs `function` on `loop`; the caller resumes on its own loop with the result.
//
// `function` is a named object of the caller's, taken by reference (the caller's frame keeps it
// alive while it waits), never a temporary: GCC 12 destroys a lambda or aggregate temporary that
// is created inside a co_await expression twice. A lambda capturing a shared_ptr that way freed
// the pool's app settings while they were in use (Apache mode at two threads, issue 17). Hence
// the deleted overload below, and no lambda with captures inside this function's co_await.
template <typename Function>
asio::awaitable<std::invoke_result_t<Function&>> run_on(asio::io_context& loop,
                                                        Function& function) {
    using Result = std::invoke_result_t<Function&>;
    auto on_loop = [&function]() -> asio::awaitable<Result> { co_return function(); };
    co_return co_await asio::co_spawn(loop, on_loop, asio::use_awaitable);
}
template <typename Function>
void run_on(asio::io_context& loop, Function&& temporary) = delete;

}  // namespace passenger

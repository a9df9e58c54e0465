// Why the pool could not give a request a process. The pool says why; the front end renders the
// page (proxy/pool_error_page: detailed in development, terse in production).
#pragma once

#include <string>

namespace passenger::pool {

enum class SessionErrorKind {
    shutting_down,  // the server (or this app, removed from the configuration) is stopping: 503
    queue_full,     // --max-request-queue-size requests already wait: 503
    queue_timeout,  // waited longer than --max-request-queue-time: 504
    client_gone,    // the client closed its connection while queued: nothing is sent
    spawn_failed,   // the app could not be started (or is in its failure backoff): 500
};

struct SessionError {
    SessionErrorKind kind = SessionErrorKind::shutting_down;
    int status = 503;     // the HTTP status to answer with
    std::string message;  // one sentence for the user and the log
    // spawn_failed only: which app, and what it printed before failing (the log excerpt).
    std::string app_root;
    std::string app_output;
};

inline SessionError session_error(SessionErrorKind kind, int status, std::string message) {
    SessionError error;
    error.kind = kind;
    error.status = status;
    error.message = std::move(message);
    return error;
}

inline SessionError shutting_down_error() {
    return session_error(SessionErrorKind::shutting_down, 503, "The server is shutting down.");
}

}  // namespace passenger::pool

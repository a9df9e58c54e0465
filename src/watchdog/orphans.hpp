// App processes whose parent died. The watchdog is the child subreaper of everything below it,
// so when the core is killed, descendants that outlive it (the program behind a generic app's
// `sh -c`, `meteor run`'s children) become the watchdog's children instead of init's, and are
// killed here before the core is restarted: no app process outlives the core that managed it.
#pragma once

namespace passenger::watchdog {

// Makes this process the subreaper of its descendants (PR_SET_CHILD_SUBREAPER).
void adopt_orphaned_descendants();

// Sends SIGKILL to every child of this process (and its process group) except `keep_pid`.
// Returns how many were signalled; they are reaped by the caller's waitpid loop.
int kill_adopted_children(int keep_pid);

}  // namespace passenger::watchdog

// The admin module's only window into pool internals: a read-only snapshot of the pool's groups,
// and the restart call. Kept in one file so a change in pool/ touches one place here.
#pragma once

#include "admin/pool_snapshot.hpp"

#include <string>
#include <vector>

namespace passenger::pool {
class Pool;
}

namespace passenger::admin {

// Every app in the pool, in the order they started.
std::vector<GroupSnapshot> take_snapshots(const pool::Pool& pool);

// Restarts the processes of the app in `app_root` through the pool: Group::restart(), which
// replaces them rolling (new before old) with --rolling-restarts, else stops the old ones first.
// False if no app has that root.
bool restart_app_in(pool::Pool& pool, const std::string& app_root);

}  // namespace passenger::admin

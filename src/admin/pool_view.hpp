// The admin module's only window into pool internals: a read-only snapshot of a group, its app
// root, and the restart call. Kept in one file so a change in pool/ touches one place here.
#pragma once

#include "admin/pool_snapshot.hpp"

#include <string>

namespace passenger::pool {
class Group;
}

namespace passenger::admin {

const std::string& app_root_of(const pool::Group& group);

// Restarts the group's processes through the pool: Group::restart(), which replaces them rolling
// (new before old) with --rolling-restarts, else stops the old ones first.
void restart_group(pool::Group& group);

}  // namespace passenger::admin

// The stable opaque id of a process that sticky-session cookies name: random, so it tells a
// client nothing (not the PID) and no later process reuses it.
#pragma once

#include <string>

namespace passenger::pool {

// 16 lowercase hex digits, unique among the processes of this core in practice (64 random bits).
std::string new_sticky_id();

}  // namespace passenger::pool

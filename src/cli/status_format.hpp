// Text layouts of the inspection tools (pure functions, so tests can pin them down).
#pragma once

#include "admin/instance_registry.hpp"
#include "admin/pool_snapshot.hpp"

#include <ctime>
#include <string>
#include <vector>

namespace passenger::cli {

// "9s", "1m 5s", "2h 0m 7s", "3d 4h 5m 6s".
std::string format_duration(double seconds);
// Local time as "2013-11-14 21:55:30 +0100".
std::string format_local_time(std::time_t when);
// "218.4 MB" for a size in KiB.
std::string format_megabytes(uint64_t kilobytes);

// passenger-status's default output, the tutorial's layout.
std::string format_status(const admin::PoolSnapshot& pool, const admin::Instance& instance,
                          std::time_t now);

// The table of running instances (passenger-config list-instances, and the "which one?" answer
// of passenger-status): Name, PID, Port, Started, App root.
std::string format_instance_table(const std::vector<admin::Instance>& instances);

// What passenger-status & co print when several instances run and none was named.
std::string format_pick_an_instance(const std::vector<admin::Instance>& instances,
                                    const std::string& how_to_pick);

}  // namespace passenger::cli

// The spawn helper: the one process that stays root when the core runs as nginx's worker user
// with automatic user switching (nginx mode, master started as root). It parses no network
// input and does nothing but start app processes, signal them and report their exits, over a
// SOCK_SEQPACKET socket to the core (helper_messages.hpp):
//
//   core -> helper  {"op":"spawn","id":N,"argv":[..],"env":[..],"app_root":DIR,"app_type":T,
//                    "startup_file":F,"socket_folder":"app-N"|"","rules":{user_switching,user,
//                    group,default_user,default_group}}
//   helper -> core  {"op":"spawned","id":N,"pid":P,"user":U,"group":G} + stdout, stderr fds
//                   {"op":"spawn_failed","id":N,"error":LINE}
//   core -> helper  {"op":"signal","pid":P,"signal":S}   (only to a process group it started)
//   core -> helper  {"op":"memory","id":N,"pids":[..]}    (members of groups it started)
//   helper -> core  {"op":"memory","id":N,"kb":{"PID":KB,..}}
//   helper -> core  {"op":"exited","pid":P,"status":WAITSTATUS}
//
// The helper decides the account itself (app_account.hpp) from the owner of the app's owner
// file, read by common/safe_file's rules (no link another user could plant is followed). When
// the core's end closes (the core exited or was killed) every app is killed and the helper exits.
#pragma once

#include <string>
#include <string_view>

namespace passenger::spawn {

// What every spawn helper's socket folder name starts with, before the helper's pid.
inline constexpr std::string_view helper_socket_dir_kind = "passenger-spawn.";

// The folder of the helper's per-app socket folders: /tmp/passenger-spawn.<helper pid>.XXXXXX.
inline std::string helper_socket_dir_prefix(int helper_pid) {
    return std::string(helper_socket_dir_kind) + std::to_string(helper_pid) + ".";
}

// `passenger spawn-helper`: serves the core on `socket_fd` until it closes. `core_user` is the
// user the core runs as: its primary group may enter the apps' socket folders. Without
// `allow_root_apps` (no directive named root when nginx started) no app runs as root.
int run_spawn_helper(int socket_fd, const std::string& core_user, bool allow_root_apps);

}  // namespace passenger::spawn

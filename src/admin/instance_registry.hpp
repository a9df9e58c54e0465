// The instance registry: a folder (default: the system temp dir) in which every running server
// keeps a subfolder `passenger.<name>/` with `properties.json` (who it is) and `admin.sock` (its
// admin API). Tools find servers here; an entry whose watchdog is gone is stale and cleaned up.
#pragma once

#include <sys/types.h>

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace passenger::admin {

inline constexpr const char* kRegistryDirVariable = "PASSENGER_INSTANCE_REGISTRY_DIR";
inline constexpr const char* kPropertiesFile = "properties.json";
inline constexpr const char* kAdminSocketFile = "admin.sock";

struct InstanceProperties {
    std::string name;  // the random suffix of the folder name
    std::string version;
    // The instance lives as long as its watchdog; the start time (clock ticks after boot,
    // /proc/PID/stat field 22) tells a reused pid from the original.
    pid_t watchdog_pid = 0;
    uint64_t watchdog_start_ticks = 0;
    pid_t core_pid = 0;
    uid_t uid = 0;
    std::string user;
    std::string address;
    int port = 0;
    std::vector<std::string> app_roots;
    int64_t started_at = 0;  // Unix seconds, when the instance was first registered
    std::string log_file;
    std::string pid_file;
    std::string integration_mode;  // "nginx", "apache2"; empty: Standalone
};

void to_json(nlohmann::json& json, const InstanceProperties& properties);
void from_json(const nlohmann::json& json, InstanceProperties& properties);

struct Instance {
    std::string dir;  // absolute: <registry>/passenger.<name>
    InstanceProperties properties;

    std::string admin_socket() const { return dir + "/" + kAdminSocketFile; }
};

// The registry folder: `option` when set, else $PASSENGER_INSTANCE_REGISTRY_DIR, else $TMPDIR,
// else /tmp.
std::string registry_dir(const std::string& option);

// The start time of a live process (/proc/PID/stat field 22); std::nullopt when there is none.
std::optional<uint64_t> process_start_ticks(pid_t pid);

// Whether the watchdog named in `properties` still runs (same pid, same start time).
bool instance_alive(const InstanceProperties& properties);

// Registers this process as the core of an instance. When an entry for the same watchdog exists
// (the watchdog restarted the core), it is taken over: same name, new core pid, the old socket
// file removed. Returns the entry or a message naming what failed.
std::variant<Instance, std::string> register_instance(const std::string& registry,
                                                      InstanceProperties properties);

// Rewrites properties.json atomically (a temporary file, then rename). Returns an error or "".
std::string write_properties(const Instance& instance);

// Removes the entry's files and folder. Only what the registry put there is removed.
void remove_instance(const std::string& dir);

// The live instances in `registry`, oldest first. Stale entries (watchdog gone) are removed when
// permissions allow and never returned; so are entries whose folder is not owned by the uid the
// properties claim. A folder without properties.json is skipped (it may be being created), and
// removed once it is a minute old.
std::vector<Instance> list_instances(const std::string& registry);

}  // namespace passenger::admin

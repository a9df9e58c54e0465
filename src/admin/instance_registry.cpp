#include "admin/instance_registry.hpp"

#include "common/safe_file.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace passenger::admin {
namespace {

constexpr std::string_view kEntryPrefix = "passenger.";
constexpr int kUnfinishedEntryGraceSeconds = 60;

std::string errno_text() {
    return std::strerror(errno);
}

// Root lists other users' entries: their links are not followed, their files must be theirs.
std::optional<InstanceProperties> read_properties(const std::string& dir) {
    safe_file::OpenedFile file =
        safe_file::open_file(dir + "/" + kPropertiesFile, safe_file::Access::read);
    if (!file.ok()) return std::nullopt;
    std::string text;
    char buffer[4096];
    ssize_t length = 0;
    while ((length = ::read(file.fd.get(), buffer, sizeof buffer)) > 0)
        text.append(buffer, static_cast<size_t>(length));
    try {
        return nlohmann::json::parse(text).get<InstanceProperties>();
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

struct EntryDir {
    std::string path;
    std::string name;
    struct stat info {};
};

std::vector<EntryDir> entry_dirs(const std::string& registry) {
    std::vector<EntryDir> result;
    DIR* dir = ::opendir(registry.c_str());
    if (dir == nullptr) return result;
    while (dirent* entry = ::readdir(dir)) {
        std::string_view name = entry->d_name;
        if (!name.starts_with(kEntryPrefix) || name.size() == kEntryPrefix.size()) continue;
        EntryDir found;
        found.path = registry + "/" + std::string(name);
        found.name = std::string(name.substr(kEntryPrefix.size()));
        // lstat: a symlink named like an entry is no entry.
        if (::lstat(found.path.c_str(), &found.info) != 0 || !S_ISDIR(found.info.st_mode)) continue;
        result.push_back(std::move(found));
    }
    ::closedir(dir);
    return result;
}

bool may_remove(const struct stat& info) {
    uid_t self = ::geteuid();
    return self == 0 || self == info.st_uid;
}

}  // namespace

void to_json(nlohmann::json& json, const InstanceProperties& p) {
    json = nlohmann::json{{"name", p.name},
                          {"version", p.version},
                          {"watchdog_pid", p.watchdog_pid},
                          {"watchdog_start_ticks", p.watchdog_start_ticks},
                          {"core_pid", p.core_pid},
                          {"uid", p.uid},
                          {"user", p.user},
                          {"address", p.address},
                          {"port", p.port},
                          {"app_roots", p.app_roots},
                          {"started_at", p.started_at},
                          {"log_file", p.log_file},
                          {"pid_file", p.pid_file},
                          {"integration_mode", p.integration_mode}};
}

void from_json(const nlohmann::json& json, InstanceProperties& p) {
    json.at("name").get_to(p.name);
    p.version = json.value("version", "");
    json.at("watchdog_pid").get_to(p.watchdog_pid);
    p.watchdog_start_ticks = json.value("watchdog_start_ticks", uint64_t{0});
    p.core_pid = json.value("core_pid", pid_t{0});
    json.at("uid").get_to(p.uid);
    p.user = json.value("user", "");
    p.address = json.value("address", "");
    p.port = json.value("port", 0);
    p.app_roots = json.value("app_roots", std::vector<std::string>{});
    p.started_at = json.value("started_at", int64_t{0});
    p.log_file = json.value("log_file", "");
    p.pid_file = json.value("pid_file", "");
    p.integration_mode = json.value("integration_mode", "");
}

std::string registry_dir(const std::string& option) {
    if (!option.empty()) return option;
    for (const char* variable : {kRegistryDirVariable, "TMPDIR"}) {
        const char* value = std::getenv(variable);
        if (value != nullptr && *value != '\0') return value;
    }
    return "/tmp";
}

std::optional<uint64_t> process_start_ticks(pid_t pid) {
    std::ifstream file(fmt::format("/proc/{}/stat", pid));
    std::string content;
    if (!std::getline(file, content)) return std::nullopt;
    size_t close = content.rfind(')');
    if (close == std::string::npos || close + 2 >= content.size()) return std::nullopt;
    char state = content[close + 2];
    if (state == 'Z' || state == 'X') return std::nullopt;
    // After ')': state(3) ppid(4) ... starttime(22).
    std::istringstream fields(content.substr(close + 1));
    std::string field;
    for (int i = 3; i <= 22; ++i) {
        if (!(fields >> field)) return std::nullopt;
    }
    return std::strtoull(field.c_str(), nullptr, 10);
}

bool instance_alive(const InstanceProperties& properties) {
    if (properties.watchdog_pid <= 0) return false;
    if (::kill(properties.watchdog_pid, 0) != 0 && errno != EPERM) return false;
    std::optional<uint64_t> ticks = process_start_ticks(properties.watchdog_pid);
    if (!ticks) return false;
    return properties.watchdog_start_ticks == 0 || *ticks == properties.watchdog_start_ticks;
}

std::string write_properties(const Instance& instance) {
    std::string text = nlohmann::json(instance.properties).dump(2) + "\n";
    // 0644 whatever the umask: other users' tools may list instances.
    safe_file::OpenedFile file =
        safe_file::replace_file(instance.dir + "/" + kPropertiesFile, text, 0644);
    return file.ok() ? "" : file.error;
}

std::variant<Instance, std::string> register_instance(const std::string& registry,
                                                      InstanceProperties properties) {
    safe_file::Folder folder = safe_file::open_folder(registry);
    if (folder.missing) {
        auto [parent_path, name] = safe_file::split_path(registry);
        safe_file::Folder parent = safe_file::open_folder(parent_path);
        if (parent.ok() && ::mkdirat(parent.fd.get(), name.c_str(), 0755) == 0)
            folder = safe_file::open_folder(registry);
    }
    if (!folder.ok()) return safe_file::describe("instance registry", registry, folder.error);

    Instance instance;
    // The watchdog restarted the core: keep the entry (and its name) of the previous core.
    for (const EntryDir& entry : entry_dirs(registry)) {
        if (entry.info.st_uid != ::geteuid()) continue;
        std::optional<InstanceProperties> old = read_properties(entry.path);
        if (!old || old->watchdog_pid != properties.watchdog_pid ||
            old->watchdog_start_ticks != properties.watchdog_start_ticks)
            continue;
        instance.dir = entry.path;
        properties.name = entry.name;
        properties.started_at = old->started_at;
        safe_file::remove_file(instance.admin_socket());
        break;
    }
    if (instance.dir.empty()) {
        // Listable by everyone; the socket itself is private.
        std::string name = safe_file::make_random_folder(folder, std::string(kEntryPrefix), 0755);
        if (name.empty())
            return fmt::format("cannot create an entry in the instance registry {}: {}", registry,
                               errno_text());
        instance.dir = registry + "/" + name;
        properties.name = name.substr(kEntryPrefix.size());
        if (properties.started_at == 0) properties.started_at = std::time(nullptr);
    }
    instance.properties = std::move(properties);
    if (std::string error = write_properties(instance); !error.empty()) {
        remove_instance(instance.dir);
        return error;
    }
    return instance;
}

void remove_instance(const std::string& dir) {
    // By opened folders: root removes stale entries of other users, who could swap in links.
    safe_file::Folder folder = safe_file::open_folder(dir);
    if (!folder.ok()) return;
    for (const std::string& name : safe_file::list_names(folder)) {
        bool ours = name == kAdminSocketFile || name == kPropertiesFile ||
                    name.starts_with(std::string(kPropertiesFile) + ".tmp");
        if (ours) ::unlinkat(folder.fd.get(), name.c_str(), 0);
    }
    auto [parent_path, name] = safe_file::split_path(dir);
    safe_file::Folder parent = safe_file::open_folder(parent_path);
    if (parent.ok()) ::unlinkat(parent.fd.get(), name.c_str(), AT_REMOVEDIR);
}

std::vector<Instance> list_instances(const std::string& registry) {
    std::vector<Instance> result;
    for (const EntryDir& entry : entry_dirs(registry)) {
        std::optional<InstanceProperties> properties = read_properties(entry.path);
        if (!properties) {
            bool old = std::time(nullptr) - entry.info.st_mtime > kUnfinishedEntryGraceSeconds;
            if (old && may_remove(entry.info)) remove_instance(entry.path);
            continue;
        }
        if (!instance_alive(*properties)) {
            if (may_remove(entry.info)) remove_instance(entry.path);
            continue;
        }
        // A folder claiming to be another user's instance is not trusted.
        if (entry.info.st_uid != properties->uid) continue;
        properties->name = entry.name;
        result.push_back({entry.path, std::move(*properties)});
    }
    std::sort(result.begin(), result.end(), [](const Instance& a, const Instance& b) {
        return a.properties.started_at != b.properties.started_at
                   ? a.properties.started_at < b.properties.started_at
                   : a.properties.name < b.properties.name;
    });
    return result;
}

}  // namespace passenger::admin

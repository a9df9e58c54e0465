#include "admin/instance_registry.hpp"

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

std::optional<InstanceProperties> read_properties(const std::string& dir) {
    std::ifstream file(dir + "/" + kPropertiesFile);
    if (!file) return std::nullopt;
    std::stringstream text;
    text << file.rdbuf();
    try {
        return nlohmann::json::parse(text.str()).get<InstanceProperties>();
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
                          {"pid_file", p.pid_file}};
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
    std::string target = instance.dir + "/" + kPropertiesFile;
    std::string temporary = target + ".tmp";
    std::string text = nlohmann::json(instance.properties).dump(2) + "\n";
    int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) return fmt::format("cannot write {}: {}", temporary, errno_text());
    ::fchmod(fd, 0644);  // whatever the umask: other users' tools may list instances
    bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
    std::string error = written ? "" : fmt::format("cannot write {}: {}", temporary, errno_text());
    ::close(fd);
    if (error.empty() && ::rename(temporary.c_str(), target.c_str()) != 0)
        error = fmt::format("cannot rename {} to {}: {}", temporary, target, errno_text());
    if (!error.empty()) ::unlink(temporary.c_str());
    return error;
}

std::variant<Instance, std::string> register_instance(const std::string& registry,
                                                      InstanceProperties properties) {
    struct stat info {};
    if (::stat(registry.c_str(), &info) != 0) {
        if (errno != ENOENT || ::mkdir(registry.c_str(), 0755) != 0)
            return fmt::format("instance registry {}: {}", registry, errno_text());
    } else if (!S_ISDIR(info.st_mode)) {
        return fmt::format("instance registry {} is not a folder", registry);
    }

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
        ::unlink(instance.admin_socket().c_str());
        break;
    }
    if (instance.dir.empty()) {
        std::string pattern = registry + "/" + std::string(kEntryPrefix) + "XXXXXX";
        if (::mkdtemp(pattern.data()) == nullptr)
            return fmt::format("cannot create an entry in the instance registry {}: {}", registry,
                               errno_text());
        ::chmod(pattern.c_str(), 0755);  // listable by everyone; the socket itself is private
        instance.dir = pattern;
        properties.name = pattern.substr(registry.size() + 1 + kEntryPrefix.size());
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
    for (const char* file : {kAdminSocketFile, kPropertiesFile}) {
        ::unlink((dir + "/" + file).c_str());
    }
    ::unlink((dir + "/" + kPropertiesFile + ".tmp").c_str());
    ::rmdir(dir.c_str());
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

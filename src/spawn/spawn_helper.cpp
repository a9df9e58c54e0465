#include "spawn/spawn_helper.hpp"

#include "common/folder_in_use.hpp"
#include "common/log.hpp"
#include "common/safe_file.hpp"
#include "spawn/app_account.hpp"
#include "spawn/child_process.hpp"
#include "spawn/helper_messages.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <map>
#include <regex>

namespace passenger::spawn {
namespace {

struct Child {
    std::string socket_folder;  // in the helper's socket dir; "" when the app has none
    uid_t uid = 0;
};

class Helper {
  public:
    Helper(int socket, gid_t core_gid, bool allow_root_apps)
        : socket_(socket), core_gid_(core_gid), allow_root_apps_(allow_root_apps) {}

    std::string open_socket_dir();
    void serve();

  private:
    void on_message(const HelperMessage& message);
    void on_spawn(const nlohmann::json& request);
    void on_signal(const nlohmann::json& request);
    void on_memory(const nlohmann::json& request);
    void reap();
    void kill_all_and_clean_up();
    std::string make_socket_folder(const std::string& name, uid_t uid);
    void reply(const nlohmann::json& body, const std::vector<int>& fds = {}) {
        if (std::string error = send_helper_message(socket_, body, fds); !error.empty())
            log::error("{}", error);
    }

    int socket_;
    gid_t core_gid_;
    bool allow_root_apps_;
    safe_file::Folder socket_dir_;
    std::string socket_dir_name_;
    FileDescriptor socket_dir_in_use_;  // its in-use lock (common/folder_in_use.hpp)
    std::map<pid_t, Child> children_;
};

std::string Helper::open_socket_dir() {
    safe_file::Folder parent = safe_file::open_folder("/tmp");
    if (!parent.ok()) return parent.error;
    // Everyone may pass through (each app's folder guards its own socket), nobody may list.
    socket_dir_name_ =
        safe_file::make_random_folder(parent, helper_socket_dir_prefix(::getpid()), 0711);
    if (socket_dir_name_.empty())
        return fmt::format("cannot create a folder for app sockets in /tmp: {}",
                           std::strerror(errno));
    socket_dir_ = safe_file::open_subfolder(parent, socket_dir_name_);
    if (!socket_dir_.ok()) return socket_dir_.error;
    socket_dir_in_use_ = folder_in_use::hold("/tmp/" + socket_dir_name_);
    if (!socket_dir_in_use_.valid())
        return fmt::format("cannot lock /tmp/{} as in use: {}", socket_dir_name_,
                           std::strerror(errno));
    reply({{"op", "ready"}, {"socket_dir", "/tmp/" + socket_dir_name_}});
    return {};
}

// The app's socket folder: the app's user creates its socket there, the core's group may enter
// and connect, nobody else may even look (mode 0750, owner the app, group the core's).
std::string Helper::make_socket_folder(const std::string& name, uid_t uid) {
    static const std::regex valid("app-[0-9]{1,9}");
    if (!std::regex_match(name, valid)) return fmt::format("bad socket folder name '{}'", name);
    if (::mkdirat(socket_dir_.fd.get(), name.c_str(), 0700) != 0)
        return fmt::format("cannot create the app's socket folder {}: {}", name,
                           std::strerror(errno));
    FileDescriptor folder(::openat(socket_dir_.fd.get(), name.c_str(),
                                   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!folder.valid() || ::fchown(folder.get(), uid, core_gid_) != 0 ||
        ::fchmod(folder.get(), 0750) != 0) {
        std::string error = std::strerror(errno);
        ::unlinkat(socket_dir_.fd.get(), name.c_str(), AT_REMOVEDIR);
        return fmt::format("cannot prepare the app's socket folder {}: {}", name, error);
    }
    return {};
}

// The owner of the file that decides the account, read by root's rules for files.
std::variant<uid_t, std::string> owner_of(const std::string& path, bool folder) {
    if (folder) {
        safe_file::Folder opened = safe_file::open_folder(path);
        if (!opened.ok()) return opened.error;
        return opened.info.st_uid;
    }
    safe_file::OpenedFile opened = safe_file::open_file(path, safe_file::Access::read);
    if (!opened.ok()) return opened.error.empty() ? path + ": missing" : opened.error;
    return opened.info.st_uid;
}

void set_variable(std::vector<std::string>& environment, const std::string& name,
                  const std::string& value) {
    std::string prefix = name + "=";
    std::erase_if(environment, [&](const std::string& e) { return e.starts_with(prefix); });
    environment.push_back(prefix + value);
}

void Helper::on_spawn(const nlohmann::json& request) {
    nlohmann::json id = request.value("id", nlohmann::json());
    auto fail = [&](const std::string& error) {
        log::error("Cannot start an app: {}", error);
        reply({{"op", "spawn_failed"}, {"id", id}, {"error", error}});
    };
    std::vector<std::string> argv, environment;
    std::string app_root, app_type, startup_file, socket_folder;
    AccountRules rules;
    try {
        argv = request.at("argv").get<std::vector<std::string>>();
        environment = request.at("env").get<std::vector<std::string>>();
        app_root = request.at("app_root").get<std::string>();
        app_type = request.at("app_type").get<std::string>();
        startup_file = request.value("startup_file", "");
        socket_folder = request.value("socket_folder", "");
        const nlohmann::json& given = request.at("rules");
        rules.user_switching = given.value("user_switching", true);
        rules.user = given.value("user", "");
        rules.group = given.value("group", "");
        rules.default_user = given.value("default_user", "nobody");
        rules.default_group = given.value("default_group", "");
    } catch (const std::exception& error) {
        return fail(fmt::format("malformed spawn request: {}", error.what()));
    }
    if (argv.empty() || !app_root.starts_with("/")) return fail("malformed spawn request");

    uid_t owner = 0;
    if (rules.user_switching && rules.user.empty()) {
        std::string file = owner_file(app_type, app_root, startup_file);
        auto found = owner_of(file, file == app_root || app_type == "meteor");
        if (auto* error = std::get_if<std::string>(&found))
            return fail(fmt::format("cannot tell which user owns the app: {}", *error));
        owner = std::get<uid_t>(found);
    }
    auto resolved = resolve_app_account(rules, owner, system_accounts());
    if (auto* error = std::get_if<std::string>(&resolved)) return fail(*error);
    const AppAccount& account = std::get<AppAccount>(resolved);
    if ((account.user.uid == 0 || account.group.gid == 0) && !allow_root_apps_)
        return fail(fmt::format(
            "the app would run as {}:{}, but no passenger_user, passenger_group or default named "
            "root when nginx started; restart nginx (not reload) to allow it",
            account.user.name, account.group.name));

    if (!socket_folder.empty()) {
        if (std::string error = make_socket_folder(socket_folder, account.user.uid); !error.empty())
            return fail(error);
    }
    set_variable(environment, "HOME", account.user.home);
    set_variable(environment, "USER", account.user.name);
    set_variable(environment, "LOGNAME", account.user.name);
    set_variable(environment, "SHELL", account.user.shell);
    ChildCredentials credentials{account.user.uid, account.group.gid,
                                 supplementary_groups(account.user, account.group.gid)};
    ChildProcess child = start_child_process(argv, environment, app_root, &credentials);
    if (child.pid < 0) {
        if (!socket_folder.empty())
            ::unlinkat(socket_dir_.fd.get(), socket_folder.c_str(), AT_REMOVEDIR);
        return fail(child.error);
    }
    FileDescriptor stdout_fd(child.stdout_fd), stderr_fd(child.stderr_fd);
    children_[child.pid] = Child{socket_folder, account.user.uid};
    log::info("Started app process {} as {}:{}", child.pid, account.user.name, account.group.name);
    reply({{"op", "spawned"},
           {"id", id},
           {"pid", child.pid},
           {"user", account.user.name},
           {"group", account.group.name}},
          {stdout_fd.get(), stderr_fd.get()});
}

void Helper::on_signal(const nlohmann::json& request) {
    pid_t pid = request.value("pid", 0);
    int signal = request.value("signal", 0);
    // Only the process groups this helper started: the core cannot make root signal others.
    if (children_.contains(pid) && (signal == SIGTERM || signal == SIGKILL)) ::kill(-pid, signal);
}

// Private dirty memory (/proc/PID/smaps_rollup), which only root or the app's user may read.
void Helper::on_memory(const nlohmann::json& request) {
    nlohmann::json sizes = nlohmann::json::object();
    for (pid_t pid : request.value("pids", std::vector<pid_t>())) {
        pid_t group = ::getpgid(pid);
        if (group < 0 || !children_.contains(group)) continue;
        std::ifstream rollup(fmt::format("/proc/{}/smaps_rollup", pid));
        std::string line;
        uint64_t kb = 0;
        bool found = false;
        while (std::getline(rollup, line)) {
            if (line.starts_with("Private_Dirty:")) {
                kb += std::strtoull(line.c_str() + 14, nullptr, 10);
                found = true;
            }
        }
        if (found) sizes[std::to_string(pid)] = kb;
    }
    reply({{"op", "memory"}, {"id", request.value("id", 0)}, {"kb", sizes}});
}

void Helper::reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
        auto it = children_.find(pid);
        if (it == children_.end()) continue;
        if (!it->second.socket_folder.empty())
            safe_file::remove_tree(socket_dir_, it->second.socket_folder, it->second.uid);
        children_.erase(it);
        reply({{"op", "exited"}, {"pid", pid}, {"status", status}});
    }
}

void Helper::on_message(const HelperMessage& message) {
    std::string op = message.body.value("op", "");
    if (op == "spawn") return on_spawn(message.body);
    if (op == "signal") return on_signal(message.body);
    if (op == "memory") return on_memory(message.body);
    log::error("Spawn helper: unknown request '{}'", op);
}

void Helper::kill_all_and_clean_up() {
    for (const auto& [pid, child] : children_) ::kill(-pid, SIGKILL);
    for (const auto& [pid, child] : children_) {
        while (::waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
        }
        if (!child.socket_folder.empty())
            safe_file::remove_tree(socket_dir_, child.socket_folder, child.uid);
    }
    children_.clear();
    auto [parent, name] = safe_file::split_path("/tmp/" + socket_dir_name_);
    safe_file::Folder tmp = safe_file::open_folder(parent);
    if (tmp.ok()) safe_file::remove_tree(tmp, name, 0);
}

void Helper::serve() {
    sigset_t child_signal;
    sigemptyset(&child_signal);
    sigaddset(&child_signal, SIGCHLD);
    ::sigprocmask(SIG_BLOCK, &child_signal, nullptr);
    FileDescriptor signals(::signalfd(-1, &child_signal, SFD_CLOEXEC | SFD_NONBLOCK));
    for (;;) {
        pollfd watched[2] = {{socket_, POLLIN, 0}, {signals.get(), POLLIN, 0}};
        if (::poll(watched, 2, -1) < 0) {
            if (errno == EINTR) continue;
            break;
        }
        if (watched[1].revents != 0) {
            signalfd_siginfo info;
            while (::read(signals.get(), &info, sizeof info) == sizeof info) {
            }
            reap();
        }
        if (watched[0].revents == 0) continue;
        HelperMessage message;
        ReceiveStatus status = receive_helper_message(socket_, message, MSG_DONTWAIT);
        if (status == ReceiveStatus::message) {
            on_message(message);
        } else if (status != ReceiveStatus::would_block) {
            break;  // the core is gone
        }
    }
    kill_all_and_clean_up();
}

}  // namespace

int run_spawn_helper(int socket_fd, const std::string& core_user, bool allow_root_apps) {
    log::set_role("spawn-helper");
    // It lives exactly as long as the core's end of the socket: signals meant for the core's
    // process group (a terminal's ^C, say) must not take the apps down behind the core's back.
    for (int signal : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE}) std::signal(signal, SIG_IGN);
    // The helper never reads a request of a client; it only starts what the core asks for.
    auto core = system_accounts().user_by_name(core_user);
    if (!core) {
        log::error("Spawn helper: no such user '{}'", core_user);
        return 1;
    }
    Helper helper(socket_fd, core->gid, allow_root_apps);
    if (std::string error = helper.open_socket_dir(); !error.empty()) {
        log::error("Spawn helper: {}", error);
        send_helper_message(socket_fd, {{"op", "failed"}, {"error", error}});
        return 1;
    }
    helper.serve();
    return 0;
}

}  // namespace passenger::spawn

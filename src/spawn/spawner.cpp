#include "spawn/spawner.hpp"

#include "common/folder_in_use.hpp"

#include "common/core_environment.hpp"
#include "common/exit_status.hpp"
#include "common/log.hpp"
#include "common/safe_file.hpp"
#include "spawn/app_command.hpp"
#include "spawn/child_process.hpp"
#include "spawn/socket_dir.hpp"

#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <chrono>
#include <climits>
#include <csignal>
#include <cstdlib>
#include <cstring>

extern char** environ;

namespace passenger::spawn {
namespace {

using namespace std::chrono_literals;

// Readiness polling, for apps that give no event (TCP ports) and as a fallback without inotify.
constexpr std::chrono::milliseconds kFirstPollInterval = 1ms;
constexpr std::chrono::milliseconds kLongestPollInterval = 20ms;

// A loopback port nobody listens on right now, for apps that read $PORT.
int pick_free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    int port = 0;
    if (fd >= 0 && ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0)
        port = ntohs(address.sin_port);
    if (fd >= 0) ::close(fd);
    return port;
}

struct ExitState {
    bool exited = false;
    int status = 0;
};

}  // namespace

Spawner::Spawner(asio::io_context& io, ChildReaper& reaper)
    : io_(io), reaper_(reaper), socket_dir_watch_(io, [this] { on_socket_dir_changed(); }) {
    if (std::optional<StartedHelper> helper = take_started_helper())
        helper_ = std::make_unique<SpawnHelperClient>(io, std::move(*helper), reaper);
    std::string pattern =
        fmt::format("{}/{}XXXXXX", socket_dir_parent, socket_dir_prefix(::getpid()));
    if (::mkdtemp(pattern.data()) == nullptr) {
        log::error("cannot create a directory for app sockets: {}", std::strerror(errno));
        std::abort();
    }
    socket_dir_ = pattern;
    socket_dir_in_use_ = folder_in_use::hold(socket_dir_);
    if (!socket_dir_in_use_.valid())
        log::warn(
            "Cannot lock {} as in use ({}): another instance's watchdog in another PID "
            "namespace could take it for a leftover",
            socket_dir_, std::strerror(errno));
    if (std::string error = socket_dir_watch_.start(socket_dir_); !error.empty()) {
        log::notice("Cannot watch {} ({}); app readiness is polled, up to {} ms late", socket_dir_,
                    error, kLongestPollInterval.count());
    } else {
        socket_dir_watched_ = true;
    }
}

void Spawner::on_socket_dir_changed() {
    for (const auto& weak_wait : waiting_for_sockets_)
        if (auto wait = weak_wait.lock()) wait->wake();
}

Spawner::~Spawner() {
    // The app processes could have planted links in the folder: none is followed.
    auto [parent, name] = safe_file::split_path(socket_dir_);
    safe_file::Folder folder = safe_file::open_folder(parent);
    if (folder.ok()) safe_file::remove_tree(folder, name, ::geteuid());
}

std::vector<std::string> Spawner::environment(const config::Options& options,
                                              const std::string& socket_path, int port) {
    std::vector<std::string> result;
    for (char** entry = environ; *entry != nullptr; ++entry) {
        if (!is_core_variable(*entry)) result.emplace_back(*entry);
    }
    auto set = [&result](const std::string& name, const std::string& value) {
        std::string prefix = name + "=";
        std::erase_if(result, [&](const std::string& e) { return e.starts_with(prefix); });
        result.push_back(prefix + value);
    };
    for (const char* name : {"NODE_ENV", "PASSENGER_APP_ENV", "RAILS_ENV", "RACK_ENV"})
        set(name, options.environment);
    if (!options.base_uri.empty()) set("PASSENGER_BASE_URI", options.base_uri);
    for (const auto& [name, value] : options.envvars) set(name, value);
    set("PORT", std::to_string(port));
    if (socket_path.empty()) {
        std::erase_if(result,
                      [](const std::string& e) { return e.starts_with("PASSENGER_APP_SOCKET="); });
    } else {
        set("PASSENGER_APP_SOCKET", socket_path);
    }
    return result;
}

std::optional<std::string> Spawner::variable(const std::vector<std::string>& environment,
                                             std::string_view name) {
    for (const std::string& entry : environment) {
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    }
    return std::nullopt;
}

void Spawner::signal_process_group(pid_t pid, int signal) {
    if (helper_) {
        helper_->signal_process_group(pid, signal);
    } else {
        ::kill(-pid, signal);
    }
}

asio::awaitable<std::optional<std::map<pid_t, uint64_t>>> Spawner::private_memory_kb(
    std::vector<pid_t> pids) {
    if (!helper_) co_return std::nullopt;
    co_return co_await helper_->private_memory_kb(std::move(pids));
}

asio::awaitable<ChildProcess> Spawner::start_process(const AppCommand& command,
                                                     const std::vector<std::string>& environment,
                                                     const config::Options& options,
                                                     const AppDetection& app, unsigned number) {
    if (!helper_) co_return start_child_process(command.argv, environment, options.app_root);
    // The helper decides the account from the app's files; the rules are configuration.
    nlohmann::json request = {
        {"argv", command.argv},
        {"env", environment},
        {"app_root", options.app_root},
        {"app_type", app.app_type},
        {"startup_file", app.startup_file},
        {"socket_folder", command.app_socket ? fmt::format("app-{}", number) : std::string()},
        {"rules",
         {{"user_switching", options.user_switching},
          {"user", options.app_user},
          {"group", options.app_group},
          {"default_user", options.default_user},
          {"default_group", options.default_group}}}};
    co_return co_await helper_->spawn(std::move(request));
}

asio::awaitable<SpawnResult> Spawner::spawn(const config::Options& configured) {
    SpawnResult result;
    // An app root that is a symlink (current -> releases/N) is resolved anew for every process,
    // so a deploy that switches the link and touches restart.txt starts the new release.
    char resolved_root[PATH_MAX];
    if (::realpath(configured.app_root.c_str(), resolved_root) == nullptr) {
        result.failure = fmt::format("app root {}: {}", configured.app_root, std::strerror(errno));
        co_return result;
    }
    config::Options options = configured;
    options.app_root = resolved_root;
    AppDetection app = detect_app(options);
    if (app.app_type.empty()) {
        result.failure = app.error;
        co_return result;
    }
    unsigned number = next_socket_number_++;
    AppCommandPlaces places;
    // With the helper, each app's socket is in a folder of its own, made by the helper for the
    // app's user (spawn/README.md).
    places.socket_path = helper_ ? fmt::format("{}/app-{}/app.sock", helper_->socket_dir(), number)
                                 : fmt::format("{}/app-{}.sock", socket_dir_, number);
    places.port = static_cast<unsigned short>(pick_free_port());
    if (!helper_) ::unlink(places.socket_path.c_str());
    AppCommand command = app_command(app, options, places);
    std::vector<std::string> env =
        environment(options, command.app_socket ? places.socket_path : std::string(), places.port);
    if (app.app_type == app_types::meteor) {
        MeteorSettings settings =
            prepare_meteor_settings(options, variable(env, "METEOR_SETTINGS"),
                                    fmt::format("{}/meteor-settings-{}.json", socket_dir_, number));
        if (!settings.error.empty()) {
            result.failure = settings.error;
            co_return result;
        }
        places.meteor_settings_file = settings.file;
        command = app_command(app, options, places);
    }

    // Registered before the fork, so the socket file cannot appear unseen.
    auto wait = std::make_shared<ReadinessWait>(io_);
    if (command.app_socket && socket_dir_watched_) {
        std::erase_if(waiting_for_sockets_, [](const auto& weak) { return weak.expired(); });
        waiting_for_sockets_.push_back(wait);
    }
    ChildProcess child = co_await start_process(command, env, options, app, number);
    if (child.pid < 0) {
        result.failure = child.error;
        co_return result;
    }
    auto exit_state = std::make_shared<ExitState>();
    reaper_.watch(child.pid, [exit_state, weak_wait = std::weak_ptr(wait)](int status) {
        exit_state->exited = true;
        exit_state->status = status;
        if (auto wait = weak_wait.lock()) wait->wake();
    });
    auto output = OutputForwarder::start(io_, child.pid, child.stdout_fd, child.stderr_fd);
    log::info("Spawning app process {} ({})", child.pid, describe_command(command.argv));

    // Try to connect until the app accepts a connection on its socket or port, exits, or runs out
    // of time. Between attempts, sleep until the next round of a backoff poll or until woken by
    // an event that makes a new attempt worth it: a socket file appearing, the app exiting.
    auto deadline =
        std::chrono::steady_clock::now() + std::chrono::seconds(options.start_timeout_seconds);
    auto poll_interval = kFirstPollInterval;
    for (;;) {
        if (exit_state->exited) {
            // Let the pipes drain so the error page shows everything the app said.
            asio::steady_timer timer(io_);
            for (int i = 0; i < 50 && !output->finished(); ++i) {
                timer.expires_after(10ms);
                co_await timer.async_wait(asio::use_awaitable);
            }
            result.failure = fmt::format(
                "The application process {} {} before it started "
                "listening for requests.",
                child.pid, describe_exit(exit_state->status));
            result.recent_output = output->recent_output();
            co_return result;
        }
        AppSocket probe(io_);
        asio::error_code error;
        co_await probe.async_connect(command.endpoint,
                                     asio::redirect_error(asio::use_awaitable, error));
        if (!error) break;
        if (std::chrono::steady_clock::now() > deadline) {
            signal_process_group(child.pid, SIGKILL);
            result.failure = fmt::format(
                "The application process {} did not start listening within {} seconds "
                "(--start-timeout) and was killed.",
                child.pid, options.start_timeout_seconds);
            result.recent_output = output->recent_output();
            co_return result;
        }
        bool woken = co_await wait->sleep(poll_interval);
        // Woken by a socket file, the app may be between bind() and listen(): look again soon.
        poll_interval =
            woken ? kFirstPollInterval : std::min(poll_interval * 2, kLongestPollInterval);
    }
    result.ok = true;
    result.app_type = app.app_type;
    result.pid = child.pid;
    result.endpoint = command.endpoint;
    result.output = std::move(output);
    co_return result;
}

}  // namespace passenger::spawn

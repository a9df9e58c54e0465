#include "spawn/spawn_helper_client.hpp"

#include "common/log.hpp"

#include <fmt/format.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <asio/redirect_error.hpp>
#include <asio/use_awaitable.hpp>

#include <cerrno>
#include <cstring>

namespace passenger::spawn {
namespace {

std::optional<StartedHelper>& kept_helper() {
    static std::optional<StartedHelper> helper;
    return helper;
}

// {"kb": {"PID": KB, ...}} of a memory reply.
std::map<pid_t, uint64_t> memory_sizes(const nlohmann::json& reply) {
    std::map<pid_t, uint64_t> sizes;
    auto kb = reply.find("kb");
    if (kb == reply.end() || !kb->is_object()) return sizes;
    for (auto it = kb->begin(); it != kb->end(); ++it)
        if (it.value().is_number_unsigned()) sizes[std::atoi(it.key().c_str())] = it.value();
    return sizes;
}

}  // namespace

StartedHelper start_spawn_helper(const std::string& core_user, const std::string& log_file,
                                 int log_level, bool allow_root_apps) {
    StartedHelper result;
    int ends[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, ends) != 0) {
        result.error =
            fmt::format("cannot create the spawn helper's socket: {}", std::strerror(errno));
        return result;
    }
    FileDescriptor core_end(ends[0]), helper_end(ends[1]);
    // Prepared before fork: the child may not allocate.
    std::string level = std::to_string(log_level);
    const char* root_apps = allow_root_apps ? "root-allowed" : "no-root";
    std::vector<const char*> argv = {"passenger",      "spawn-helper", core_user.c_str(),
                                     log_file.c_str(), level.c_str(),  root_apps,
                                     nullptr};
    pid_t pid = ::fork();
    if (pid < 0) {
        result.error = fmt::format("cannot fork the spawn helper: {}", std::strerror(errno));
        return result;
    }
    if (pid == 0) {
        // Only the socket at fd 3: not the core's listening socket, readiness pipe or log.
        if (::dup2(helper_end.get(), 3) == 3) {
            ::close_range(4, ~0U, 0);
            ::execv("/proc/self/exe", const_cast<char* const*>(argv.data()));
        }
        _exit(127);
    }
    helper_end.reset();
    HelperMessage ready;
    if (receive_helper_message(core_end.get(), ready, 0) != ReceiveStatus::message ||
        ready.body.value("op", "") != "ready") {
        result.error = fmt::format(
            "the spawn helper did not start: {}",
            ready.body.is_object() ? ready.body.value("error", "?") : std::string("it exited"));
        return result;
    }
    result.pid = pid;
    result.socket = std::move(core_end);
    result.socket_dir = ready.body.value("socket_dir", "");
    return result;
}

void keep_started_helper(StartedHelper helper) {
    kept_helper() = std::move(helper);
}

std::optional<StartedHelper> take_started_helper() {
    return std::exchange(kept_helper(), std::nullopt);
}

SpawnHelperClient::SpawnHelperClient(asio::io_context& io, StartedHelper helper,
                                     ChildReaper& reaper)
    : io_(io),
      reaper_(reaper),
      socket_(std::move(helper.socket)),
      socket_dir_(std::move(helper.socket_dir)),
      readable_(io, ::dup(socket_.get())) {
    read_messages();
}

void SpawnHelperClient::read_messages() {
    readable_.async_wait(
        asio::posix::stream_descriptor::wait_read, [this](const asio::error_code& error) {
            if (error) return;
            for (;;) {
                HelperMessage message;
                ReceiveStatus status = receive_helper_message(socket_.get(), message, MSG_DONTWAIT);
                if (status == ReceiveStatus::would_block) break;
                if (status != ReceiveStatus::message) {
                    // Its apps died with it (their parent-death signal).
                    log::error(
                        "The spawn helper exited; the core exits so "
                        "that the watchdog restarts both");
                    ::_exit(1);
                }
                on_message(std::move(message));
            }
            read_messages();
        });
}

void SpawnHelperClient::on_message(HelperMessage message) {
    std::string op = message.body.value("op", "");
    if (op == "exited") {
        reaper_.report_exit(message.body.value("pid", -1), message.body.value("status", 0));
        return;
    }
    auto it = pending_.find(message.body.value("id", uint64_t{0}));
    if (it == pending_.end()) return;
    it->second->reply = std::move(message);
    it->second->wake.cancel();
    pending_.erase(it);
}

asio::awaitable<std::optional<HelperMessage>> SpawnHelperClient::request(nlohmann::json body) {
    uint64_t id = next_id_++;
    body["id"] = id;
    auto pending = std::make_shared<Pending>(io_);
    if (std::string error = send_helper_message(socket_.get(), body); !error.empty()) {
        log::error("{}", error);
        co_return std::nullopt;
    }
    pending_[id] = pending;
    pending->wake.expires_at(asio::steady_timer::time_point::max());
    asio::error_code ignored;
    co_await pending->wake.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    co_return std::move(pending->reply);
}

asio::awaitable<ChildProcess> SpawnHelperClient::spawn(nlohmann::json body) {
    body["op"] = "spawn";
    std::optional<HelperMessage> reply = co_await request(std::move(body));
    ChildProcess child;
    if (!reply) {
        child.error = "the spawn helper could not be reached";
    } else if (reply->body.value("op", "") != "spawned" || reply->fds.size() != 2) {
        child.error = reply->body.value("error", "the spawn helper refused");
    } else {
        child.pid = reply->body.value("pid", -1);
        child.stdout_fd = reply->fds[0].release();
        child.stderr_fd = reply->fds[1].release();
        log::info("App process {} runs as {}:{}", child.pid, reply->body.value("user", "?"),
                  reply->body.value("group", "?"));
    }
    co_return child;
}

void SpawnHelperClient::signal_process_group(pid_t pid, int signal) {
    std::string error =
        send_helper_message(socket_.get(), {{"op", "signal"}, {"pid", pid}, {"signal", signal}});
    if (!error.empty()) log::error("{}", error);
}

asio::awaitable<std::map<pid_t, uint64_t>> SpawnHelperClient::private_memory_kb(
    std::vector<pid_t> pids) {
    std::map<pid_t, uint64_t> sizes;
    nlohmann::json body = nlohmann::json::object();
    body["op"] = "memory";
    body["pids"] = std::move(pids);
    std::optional<HelperMessage> reply = co_await request(std::move(body));
    if (reply) sizes = memory_sizes(reply->body);
    co_return sizes;
}

}  // namespace passenger::spawn

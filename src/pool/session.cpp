#include "pool/session.hpp"

#include "common/peer_probe.hpp"
#include "pool/group.hpp"
#include "pool/pool.hpp"

#include <chrono>

namespace passenger::pool {
namespace {

constexpr size_t max_idle_connections = 64;

// An app closes kept-alive connections only after seconds of idleness (Node's default is 5 s, our
// loaders never do); one returned more recently than this is taken without a check, which saves
// a syscall per request under load. The rare connection closed anyway fails the send, and an
// idempotent request is sent again on a new connection (proxy/forward.cpp).
constexpr auto unchecked_idle_time = std::chrono::seconds(1);

// A kept-alive connection the app has closed in the meantime reads as EOF, and one it sent
// unasked bytes on is out of step; neither may carry the next request.
bool still_open(AppSocket& socket) {
    return peek_peer(socket.native_handle()) == PeerState::quiet;
}

}  // namespace

Session& Session::operator=(Session&& other) noexcept {
    if (this != &other) {
        release();
        group_ = std::exchange(other.group_, nullptr);
        process_ = std::move(other.process_);
        tunnel_id_ = std::exchange(other.tunnel_id_, std::nullopt);
    }
    return *this;
}

std::optional<AppSocket> Session::take_idle_connection(IdleCheck check) {
    auto& idle = process_->idle_connections[group_->pool_.current_loop()].connections;
    const auto now = std::chrono::steady_clock::now();
    const auto broke = std::chrono::steady_clock::time_point(
        std::chrono::nanoseconds(process_->connection_broke_ns.load(std::memory_order_relaxed)));
    if (now - broke < unchecked_idle_time) check = IdleCheck::always;
    while (!idle.empty()) {
        Process::IdleConnection connection = std::move(idle.back());
        idle.pop_back();
        const bool recent = now - connection.since < unchecked_idle_time;
        if ((recent && check == IdleCheck::unless_recent) || still_open(connection.socket))
            return std::move(connection.socket);
    }
    return std::nullopt;
}

void Session::return_connection(AppSocket socket) {
    // Not ready: the pool closes the kept-alive connections to it (Pool::close_idle_connections)
    // and must not find new ones after that.
    auto& idle = process_->idle_connections[group_->pool_.current_loop()].connections;
    if (process_->ready() && idle.size() < max_idle_connections)
        idle.push_back({std::move(socket), std::chrono::steady_clock::now()});
}

void Session::register_tunnel(std::function<void()> close) {
    uint64_t id = process_->next_tunnel_id++;
    group_->add_tunnel(process_, id, std::move(close));
    tunnel_id_ = id;
}

void Session::release() {
    if (group_ != nullptr && process_ != nullptr)
        group_->on_session_released(std::move(process_), tunnel_id_);
    tunnel_id_.reset();
    group_ = nullptr;
    process_.reset();
}

}  // namespace passenger::pool

// The right to send one request to one process. Releasing it (destruction) frees the slot and
// lets the group hand the process to the next queued request.
#pragma once

#include "pool/process.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <utility>

namespace passenger::pool {

class Group;

// Whether a kept-alive connection is checked (a peek for the app's close) before it is reused.
enum class IdleCheck {
    unless_recent,  // not when it was returned less than a second ago (saves a syscall)
    always,         // for a request that must not be sent twice
};

class Session {
  public:
    Session() = default;
    Session(Group* group, std::shared_ptr<Process> process)
        : group_(group), process_(std::move(process)) {}
    Session(Session&& other) noexcept
        : group_(std::exchange(other.group_, nullptr)),
          process_(std::move(other.process_)),
          tunnel_id_(std::exchange(other.tunnel_id_, std::nullopt)) {}
    Session& operator=(Session&& other) noexcept;
    Session(const Session&) = delete;
    Session& operator=(const Session&) = delete;
    ~Session() { release(); }

    Process& process() const { return *process_; }
    explicit operator bool() const { return process_ != nullptr; }

    // Takes a kept-alive connection to the process, if it has one that is still open.
    std::optional<AppSocket> take_idle_connection(IdleCheck check = IdleCheck::unless_recent);
    // Gives a connection back for reuse by later requests (it must sit between two messages).
    void return_connection(AppSocket socket);
    // The request became a tunnel (an upgrade): it keeps the session until it ends. `close` is
    // called if the process drains or stops meanwhile (see Process::tunnels); the registration
    // ends with the session.
    void register_tunnel(std::function<void()> close);
    void release();

  private:
    Group* group_ = nullptr;
    std::shared_ptr<Process> process_;
    std::optional<uint64_t> tunnel_id_;
};

}  // namespace passenger::pool

// All apps of one core: a Group per app, the --max-pool-size cap they share, eviction (a full
// pool makes room for an app that needs a process by draining the longest-idle process of another
// app), and the apps' comings and goings when the configuration changes. Owned by the Server.
#pragma once

#include "common/event_loops.hpp"
#include "config/options.hpp"
#include "pool/app_settings.hpp"
#include "pool/group.hpp"
#include "spawn/child_reaper.hpp"
#include "spawn/spawner.hpp"

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

namespace passenger::pool {

class Pool {
  public:
    // `max_pool_size`: --max-pool-size, for all apps together. The pool runs on `io`; with
    // `loops` (the core's event loops, `io` being their main one) requests may come from any of
    // them: a session a process has room for is taken and given back on the request's loop
    // under its group's mutex; everything else is posted to `io` (Group::get_session, Session).
    Pool(asio::io_context& io, int max_pool_size, spawn::Spawner& spawner,
         spawn::ChildReaper& reaper, EventLoops* loops = nullptr);
    Pool(const Pool&) = delete;
    Pool& operator=(const Pool&) = delete;
    ~Pool();

    // The app's group (group_key: its root folder), created and started on first use. Settings
    // that differ from the group's (app_settings_fingerprint) replace them and restart the app.
    // The reference stays valid until the group is removed and its last request has ended.
    Group& group_for(const std::shared_ptr<const config::Options>& app_options);
    Group* find_group(const std::string& key) const;
    // Counts the changes that can make group_for() answer differently for settings it answered
    // before: a group's settings replaced, a group removed. Any loop may read it (nginx mode:
    // server/server.cpp keeps each loop's lookups while it stays the same).
    uint64_t settings_changes() const { return settings_changes_.load(); }
    // In order of creation.
    std::vector<Group*> groups() const;
    // An app no longer configured: its queued requests get 503, its processes stop (as at
    // shutdown), and the group is destroyed once nothing refers to it. False if there is none.
    bool remove_group(const std::string& key);
    // Removes every group whose key is not in `keys`.
    void retain_only(const std::vector<std::string>& keys);
    // Stops every app and waits until their processes are gone.
    asio::awaitable<void> shutdown();

    int max_pool_size() const { return max_pool_size_; }
    // A new cap (nginx reload): spawns beyond it wait; processes over it leave as they idle out.
    void set_max_pool_size(int max_pool_size);
    // Processes that count against the cap: ready ones and spawns in flight, across all apps.
    int live_count() const;

    // For groups.
    asio::io_context& io() { return io_; }
    spawn::Spawner& spawner() { return spawner_; }
    spawn::ChildReaper& reaper() { return reaper_; }
    bool has_room() const { return live_count() < max_pool_size_; }
    // True if `group` may spawn now: the pool has room, or another app's longest-idle process
    // (ready, no requests) was drained to make some.
    bool make_room_for(const Group& group);
    // A process became idle (from any loop), or left the pool: room for an app whose requests
    // wait, maybe. An idle process matters only while requests wait somewhere (eviction).
    void on_process_idle();
    void on_process_gone() { serve_waiting_groups(); }
    // Requests in the groups' queues, all apps together; from any loop. A group counts its
    // waiters in before it looks for room and a release counts its session out before it reads
    // this, so one of the two sees the other (both sequentially consistent).
    void count_waiting(int delta) { waiting_requests_ += delta; }
    bool requests_waiting() const { return waiting_requests_ > 0; }

    // Whether the caller runs on the pool's loop (always, with one loop).
    bool on_own_loop() const { return loops_ == nullptr || loops_->on_main_loop(); }
    size_t loop_count() const { return loops_ == nullptr ? 1 : loops_->size(); }
    // The caller's event loop (an index into Process::idle_connections).
    size_t current_loop() const { return loops_ == nullptr ? 0 : EventLoops::current(); }
    asio::io_context& loop(size_t index) { return loops_ == nullptr ? io_ : loops_->at(index); }
    // The process left rotation: each loop closes its kept-alive connections to it.
    void close_idle_connections(const std::shared_ptr<Process>& process);

  private:
    void serve_waiting_groups();
    asio::awaitable<void> retire(std::unique_ptr<Group> group);

    struct Entry {
        std::unique_ptr<Group> group;
        std::string fingerprint;  // of the group's current settings
    };

    asio::io_context& io_;
    EventLoops* loops_;
    int max_pool_size_;
    spawn::Spawner& spawner_;
    spawn::ChildReaper& reaper_;
    std::vector<Entry> entries_;
    int retiring_ = 0;  // removed groups still stopping
    std::atomic<uint64_t> settings_changes_{0};
    std::atomic<int> waiting_requests_{0};
    bool serving_waiting_groups_ = false;
    bool shutting_down_ = false;
};

}  // namespace passenger::pool

#include "pool/pool.hpp"

#include "common/log.hpp"

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <algorithm>
#include <chrono>

namespace passenger::pool {

using namespace std::chrono_literals;

Pool::Pool(asio::io_context& io, int max_pool_size, spawn::Spawner& spawner,
           spawn::ChildReaper& reaper, EventLoops* loops)
    : io_(io), loops_(loops), max_pool_size_(max_pool_size), spawner_(spawner), reaper_(reaper) {}

void Pool::close_idle_connections(const std::shared_ptr<Process>& process) {
    const size_t here = current_loop();
    for (size_t index = 0; index < process->idle_connections.size(); ++index) {
        if (index == here) {
            process->idle_connections[index].connections.clear();
            continue;
        }
        // The process is no longer ready, so that loop adds none after this (Session).
        asio::post(loop(index),
                   [process, index] { process->idle_connections[index].connections.clear(); });
    }
}

Pool::~Pool() = default;

void Pool::set_max_pool_size(int max_pool_size) {
    if (max_pool_size == max_pool_size_) return;
    max_pool_size_ = max_pool_size;
    serve_waiting_groups();  // a larger cap may let waiting apps spawn
}

Group& Pool::group_for(const std::shared_ptr<const config::Options>& app_options) {
    // The same settings object as last time (every request in Standalone mode): found by the
    // pointer alone, with no key built and nothing compared, on the per-request path.
    for (const Entry& entry : entries_) {
        if (entry.group->shared_options() == app_options) return *entry.group;
    }
    const std::string key = group_key(*app_options);
    auto entry = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& e) { return e.group->key() == key; });
    if (entry == entries_.end()) {
        std::string fingerprint = app_settings_fingerprint(*app_options);
        entries_.push_back(
            {std::make_unique<Group>(*this, key, app_options), std::move(fingerprint)});
        Group& group = *entries_.back().group;
        log::notice("Starting the application in {}", key);
        group.start();
        // Too late to serve: it stops at once and answers 503 like the others.
        if (shutting_down_) asio::co_spawn(io_, group.shutdown(), asio::detached);
        return group;
    }
    Group& group = *entry->group;
    std::string fingerprint = app_settings_fingerprint(*app_options);
    ++settings_changes_;
    if (fingerprint != entry->fingerprint) {
        entry->fingerprint = std::move(fingerprint);
        group.change_options(app_options);
    } else {
        // Only server-wide settings differ: no restart, and the next lookup by pointer hits.
        group.adopt_options(app_options);
    }
    return group;
}

Group* Pool::find_group(const std::string& key) const {
    for (const Entry& entry : entries_) {
        if (entry.group->key() == key) return entry.group.get();
    }
    return nullptr;
}

std::vector<Group*> Pool::groups() const {
    std::vector<Group*> result;
    for (const Entry& entry : entries_) result.push_back(entry.group.get());
    return result;
}

int Pool::live_count() const {
    int count = 0;
    for (const Entry& entry : entries_) count += entry.group->live_count();
    return count;
}

bool Pool::make_room_for(const Group& group) {
    if (has_room()) return true;
    Group* victim_group = nullptr;
    std::shared_ptr<Process> victim;
    for (const Entry& entry : entries_) {
        if (entry.group.get() == &group) continue;
        auto candidate = entry.group->longest_idle_process();
        if (candidate && (!victim || candidate->last_used.load() < victim->last_used.load())) {
            victim = std::move(candidate);
            victim_group = entry.group.get();
        }
    }
    if (!victim) return false;
    log::notice("The pool is full (--max-pool-size {}): app process {} of {} makes room for {}",
                max_pool_size_, victim->pid, victim_group->key(), group.key());
    victim_group->evict(*victim);
    return has_room();
}

void Pool::on_process_idle() {
    if (!requests_waiting()) return;
    if (on_own_loop()) {
        serve_waiting_groups();
    } else {
        asio::post(io_, [this] { serve_waiting_groups(); });
    }
}

void Pool::serve_waiting_groups() {
    // Spawning and evicting call back into the pool; one pass at a time is enough.
    if (serving_waiting_groups_ || shutting_down_) return;
    serving_waiting_groups_ = true;
    for (const Entry& entry : entries_) entry.group->on_room_available();
    serving_waiting_groups_ = false;
}

bool Pool::remove_group(const std::string& key) {
    auto entry = std::find_if(entries_.begin(), entries_.end(),
                              [&](const Entry& e) { return e.group->key() == key; });
    if (entry == entries_.end()) return false;
    log::notice("The application in {} is no longer configured; stopping it", key);
    std::unique_ptr<Group> group = std::move(entry->group);
    entries_.erase(entry);
    ++settings_changes_;
    ++retiring_;
    asio::co_spawn(io_, retire(std::move(group)), asio::detached);
    return true;
}

void Pool::retain_only(const std::vector<std::string>& keys) {
    std::vector<std::string> removed;
    for (const Entry& entry : entries_) {
        if (std::find(keys.begin(), keys.end(), entry.group->key()) == keys.end())
            removed.push_back(entry.group->key());
    }
    for (const std::string& key : removed) remove_group(key);
}

// Stops a removed group's processes, then keeps the group until no request, session, spawn or
// timer refers to it any more, and destroys it.
asio::awaitable<void> Pool::retire(std::unique_ptr<Group> group) {
    co_await group->shutdown();
    --retiring_;
    serve_waiting_groups();
    asio::steady_timer timer(io_);
    asio::error_code ignored;
    do {
        // Also lets handlers already queued for the group's cancelled timers run first.
        timer.expires_after(100ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    } while (!group->finished());
}

asio::awaitable<void> Pool::shutdown() {
    shutting_down_ = true;
    // All apps stop at once: each gets the whole stop timeout, not a share of it.
    int running = 0;
    for (const Entry& entry : entries_) {
        ++running;
        asio::co_spawn(io_, entry.group->shutdown(), [&running](std::exception_ptr) { --running; });
    }
    asio::steady_timer timer(io_);
    asio::error_code ignored;
    while (running > 0 || retiring_ > 0) {
        timer.expires_after(10ms);
        co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
}

}  // namespace passenger::pool

#include "server/parked_connection.hpp"

#include "common/log.hpp"
#include "common/thread_spares.hpp"
#include "http/message_reader.hpp"
#include "server/accepted_socket.hpp"
#include "server/connection.hpp"

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <asio/steady_timer.hpp>

#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <vector>

namespace passenger::server {
namespace {

using Clock = std::chrono::steady_clock;

// A burst of connections that went idle leaves memory behind: the readers' spare buffers (up to
// 16 of 16 KiB a loop) and what their requests used, free but held by the allocator (between
// live blocks, where it is never returned by itself). Once this many connections parked, the lot
// gives both back a moment later (the spares, then malloc_trim), so what an idle connection
// costs is its parked record rather than the high-water mark of the burst that brought it.
constexpr uint32_t parks_before_trim = 256;
constexpr auto trim_delay = std::chrono::seconds(1);

// The parked connections of one io_context (an asio service: one per event loop, gone with it).
// Its epoll set reports each parked descriptor once (EPOLLONESHOT), and one timer closes the
// connections whose keep-alive time ran out, oldest first.
class ParkingLot : public asio::io_context::service {
  public:
    static inline asio::io_context::id id;

    explicit ParkingLot(asio::io_context& io) : asio::io_context::service(io), io_(io) {}

    bool park(asio::ip::tcp::socket& socket, Server& server, Server::ConnectionHandle registration,
              Clock::duration keepalive_left);
    // Closes and unregisters every parked connection.
    void close_all();

  private:
    static constexpr uint32_t none = UINT32_MAX;
    struct Parked {
        Clock::time_point deadline;  // max: no keep-alive limit
        Server* server = nullptr;
        Server::ConnectionHandle registration;
        int fd = -1;              // -1: a free slot
        uint32_t generation = 0;  // of the slot: an event for an earlier occupant is ignored
        uint32_t older = none;    // the list of parked connections, oldest first
        uint32_t newer = none;    // (a free slot: the next free one)
        bool ipv6 = false;
    };

    void shutdown() override;
    bool open();
    void watch();
    void on_events();
    void wake(uint32_t index, uint32_t events);
    void close_parked(uint32_t index);
    void arm_expiry();
    void on_expiry();
    void note_parked();
    uint32_t take_slot();
    void release_slot(uint32_t index);

    asio::io_context& io_;
    int epoll_fd_ = -1;
    std::optional<asio::posix::stream_descriptor> events_;  // epoll_fd_, watched by the loop
    std::optional<asio::steady_timer> expiry_;
    bool expiry_armed_ = false;
    std::optional<asio::steady_timer> trim_;
    bool trim_armed_ = false;
    uint32_t parks_since_trim_ = 0;
    bool in_burst_ = false;  // the last trim followed a burst: its tail gets one more
    std::vector<Parked> slots_;
    uint32_t free_ = none;
    uint32_t oldest_ = none;
    uint32_t newest_ = none;
};

bool ParkingLot::open() {
    if (events_) return true;
    epoll_fd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epoll_fd_ < 0) {
        log::warn("Cannot park idle connections: epoll_create1: {}", std::strerror(errno));
        return false;
    }
    events_.emplace(io_, epoll_fd_);
    expiry_.emplace(io_);
    trim_.emplace(io_);
    watch();
    return true;
}

// The set's descriptor is edge-triggered in the loop: on_events() drains it before waiting again.
void ParkingLot::watch() {
    events_->async_wait(asio::posix::stream_descriptor::wait_read,
                        [this](const asio::error_code& error) {
                            if (!error) on_events();
                        });
}

void ParkingLot::on_events() {
    std::array<epoll_event, 64> events;
    int count;
    do {
        count = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()), 0);
        for (int i = 0; i < count; ++i) {
            auto index = static_cast<uint32_t>(events[i].data.u64);
            auto generation = static_cast<uint32_t>(events[i].data.u64 >> 32);
            if (index < slots_.size() && slots_[index].fd >= 0 &&
                slots_[index].generation == generation)
                wake(index, events[i].events);
        }
    } while (count == static_cast<int>(events.size()) || (count < 0 && errno == EINTR));
    watch();
}

// Bytes arrived: a new connection coroutine takes the descriptor. A client that closed without
// sending anything is closed here, without a socket and a connection made to read its end (so
// clients that all leave at once cost no burst of memory).
void ParkingLot::wake(uint32_t index, uint32_t events) {
    Parked parked = slots_[index];
    ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, parked.fd, nullptr);
    release_slot(index);
    Server& server = *parked.server;
    if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) != 0) {
        char byte;
        const ssize_t peeked = ::recv(parked.fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
        if (peeked == 0 || (peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
            ::close(parked.fd);
            server.unregister_connection(parked.registration);
            return;
        }
    }
    // Still non-blocking and ours alone, as when accept4 gave it: adopted the same way (no FIONBIO
    // ioctl on its next operation, no EPOLL_CTL_DEL before its close).
    asio::ip::tcp::socket socket(io_);
    asio::error_code error;
    if (!server.shutting_down())
        socket = adopt_accepted(io_, parked.ipv6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4(),
                                parked.fd, error);
    if (server.shutting_down() || error) {
        if (error) log::error("Cannot resume an idle connection: {}", error.message());
        ::close(parked.fd);
        server.unregister_connection(parked.registration);
        return;
    }
    auto resumed = std::make_unique<ParkedConnection>(
        ParkedConnection{std::move(socket), server, parked.registration});
    asio::co_spawn(io_, serve_parked_connection(std::move(resumed)), asio::detached);
}

void ParkingLot::close_parked(uint32_t index) {
    Parked parked = slots_[index];
    release_slot(index);
    ::close(parked.fd);  // leaves the epoll set with it
    parked.server->unregister_connection(parked.registration);
}

bool ParkingLot::park(asio::ip::tcp::socket& socket, Server& server,
                      Server::ConnectionHandle registration, Clock::duration keepalive_left) {
    if (!open()) return false;
    const int fd = socket.native_handle();
    int domain = AF_INET;
    socklen_t length = sizeof domain;
    ::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &length);
    const uint32_t index = take_slot();
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP | EPOLLONESHOT;
    event.data.u64 = (uint64_t{slots_[index].generation} << 32) | index;
    asio::error_code error;
    if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &event) != 0) {
        log::warn("Cannot park an idle connection: epoll_ctl: {}", std::strerror(errno));
        release_slot(index);
        return false;
    }
    socket.release(error);  // out of the loop's epoll set; the descriptor stays open
    Parked& parked = slots_[index];
    parked.fd = fd;
    parked.ipv6 = domain == AF_INET6;
    parked.server = &server;
    parked.registration = registration;
    parked.deadline = keepalive_left == keepalive_left.zero() ? Clock::time_point::max()
                                                              : Clock::now() + keepalive_left;
    parked.older = newest_;
    parked.newer = none;
    (newest_ == none ? oldest_ : slots_[newest_].newer) = index;
    newest_ = index;
    registration->socket = nullptr;
    registration->busy = false;
    if (!expiry_armed_) arm_expiry();
    note_parked();
    return true;
}

// One trim a second at most, and only after a burst: a steady trickle of parks costs nothing. A
// burst is trimmed once a second while it lasts and once more a second after its last park.
void ParkingLot::note_parked() {
    ++parks_since_trim_;
    if (trim_armed_ || (parks_since_trim_ < parks_before_trim && !in_burst_)) return;
    trim_armed_ = true;
    trim_->expires_after(trim_delay);
    trim_->async_wait([this](const asio::error_code& error) {
        trim_armed_ = false;
        if (error) return;
        in_burst_ = parks_since_trim_ >= parks_before_trim;
        parks_since_trim_ = 0;
        http::release_spare_read_buffers();        // this loop's (the lot's thread)
        ThreadSpares<std::string>::release_all();  // heads (proxy::HeadStorage)
        ThreadSpares<http::HeaderList>::release_all();
        ::malloc_trim(0);
    });
}

// The timer is due at the oldest parked connection's deadline (a later park never expires first).
void ParkingLot::arm_expiry() {
    if (oldest_ == none || slots_[oldest_].deadline == Clock::time_point::max()) return;
    expiry_armed_ = true;
    expiry_->expires_at(slots_[oldest_].deadline);
    expiry_->async_wait([this](const asio::error_code& error) {
        expiry_armed_ = false;
        if (!error) on_expiry();
    });
}

void ParkingLot::on_expiry() {
    const auto now = Clock::now();
    while (oldest_ != none && slots_[oldest_].deadline <= now) {
        log::debug("Closed an idle connection");
        close_parked(oldest_);
    }
    arm_expiry();
}

void ParkingLot::close_all() {
    while (oldest_ != none) close_parked(oldest_);
}

// Unlike close_all(), touches no registration: the io_context is going away, maybe its Server too.
void ParkingLot::shutdown() {
    for (Parked& parked : slots_) {
        if (parked.fd >= 0) ::close(parked.fd);
    }
    slots_.clear();
    oldest_ = newest_ = free_ = none;
    expiry_.reset();
    trim_.reset();
    events_.reset();  // closes epoll_fd_
}

uint32_t ParkingLot::take_slot() {
    if (free_ == none) {
        slots_.emplace_back();
        return static_cast<uint32_t>(slots_.size() - 1);
    }
    const uint32_t index = free_;
    free_ = slots_[index].newer;
    return index;
}

// Unlinks a parked slot from the list (a slot not parked yet has fd -1) and frees it.
void ParkingLot::release_slot(uint32_t index) {
    Parked& parked = slots_[index];
    if (parked.fd >= 0) {
        (parked.older == none ? oldest_ : slots_[parked.older].newer) = parked.newer;
        (parked.newer == none ? newest_ : slots_[parked.newer].older) = parked.older;
    }
    parked.fd = -1;
    ++parked.generation;
    parked.older = none;
    parked.newer = free_;
    free_ = index;
}

}  // namespace

bool park_connection(asio::ip::tcp::socket& socket, Server& server,
                     Server::ConnectionHandle registration,
                     std::chrono::steady_clock::duration keepalive_left) {
    auto& io = static_cast<asio::io_context&>(
        asio::query(socket.get_executor(), asio::execution::context));
    return asio::use_service<ParkingLot>(io).park(socket, server, registration, keepalive_left);
}

void close_parked_connections(asio::io_context& io) {
    if (asio::has_service<ParkingLot>(io)) asio::use_service<ParkingLot>(io).close_all();
}

}  // namespace passenger::server

// While the app prepares a response (a long poll may take minutes), notices a client that closed
// its connection, so the app connection can be closed and the app sees its request go away
// instead of working for nobody until its next write. It watches a duplicate of the client's
// descriptor: the client socket's own reads and writes (the response being written) are never
// disturbed. Bytes from the client (a pipelined request) end the watch: they say nothing about
// the client leaving.
#pragma once

#include <asio/ip/tcp.hpp>
#include <asio/posix/stream_descriptor.hpp>

#include <functional>
#include <memory>
#include <optional>

namespace passenger::proxy {

class ClientGoneWatch {
  public:
    // Calls `on_gone` (at most once, from the event loop) if the client closes before stop().
    ClientGoneWatch(asio::ip::tcp::socket& socket, std::function<void()> on_gone);
    ClientGoneWatch(const ClientGoneWatch&) = delete;
    ClientGoneWatch& operator=(const ClientGoneWatch&) = delete;
    ~ClientGoneWatch() { stop(); }

    void stop();
    bool gone() const { return state_->gone; }

  private:
    struct State {
        std::function<void()> on_gone;
        bool stopped = false;
        bool gone = false;
    };
    void watch();

    std::optional<asio::posix::stream_descriptor> duplicate_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace passenger::proxy

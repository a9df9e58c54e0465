// While a request waits in the pool's queue, watches its client connection: a client that closed
// it gets its request dropped from the queue, so the app never works for nobody.
#pragma once

#include "pool/group.hpp"

#include <asio/ip/tcp.hpp>

#include <memory>

namespace passenger::proxy {

// `Socket`: asio::ip::tcp::socket, or tls::TlsSocket for HTTPS (instantiated for both).
template <typename Socket>
class ClientWatch {
  public:
    explicit ClientWatch(Socket& socket) : socket_(socket) {}
    ClientWatch(const ClientWatch&) = delete;
    ClientWatch& operator=(const ClientWatch&) = delete;
    ~ClientWatch() { stop(); }

    // The callback to hand to Group::get_session: starts watching once the request is queued.
    pool::Group::OnQueued on_queued();
    // Stops watching (the request left the queue).
    void stop();

  private:
    struct State {
        bool watching = false;
        bool stopped = false;
    };
    Socket& socket_;
    std::shared_ptr<State> state_ = std::make_shared<State>();
};

}  // namespace passenger::proxy

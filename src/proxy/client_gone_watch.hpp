// While the app prepares a response (a long poll may take minutes), notices a client that closed
// its connection, so the app connection can be closed and the app sees its request go away
// instead of working for nobody until its next write. Bytes from the client (a pipelined request)
// end the watch: they say nothing about the client leaving.
//
// It costs nothing per request beyond what the connection's wait for its next request needs
// anyway. On a plain socket (`by_receiving`) it is that wait: a receive left pending on the
// client socket (http::MessageReader::watch_by_receiving: one speculative recv, no epoll_ctl),
// which a closing client completes with no bytes, and whose bytes, if the client sends any, the
// connection takes as the start of its next request. Otherwise (TLS, HTTP/2 streams, an upgrade
// request, whose socket a tunnel may take over) it waits for readability on the client socket
// and peeks; a wait left pending by stop() is the one the connection's next read rides on. It
// never cancels the socket (the response may still be being written): stop() only makes the
// pending wait's completion a no-op. The wait and its state are set up by start(), which
// forward() calls once the relay starts waiting for the app's response.
#pragma once

#include "http/message_reader.hpp"

#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace passenger::proxy {

// `Socket`: asio::ip::tcp::socket, or tls::TlsSocket for HTTPS (instantiated for both).
template <typename Socket>
class ClientGoneWatch {
  public:
    // Calls `on_gone` (at most once, from the event loop) if the client closes between start()
    // and stop(); a client that closed before start() is reported too. `by_receiving`: on a
    // plain socket, watch with the reader's pending receive (not for an upgrade request).
    ClientGoneWatch(http::MessageReader<Socket>& reader, bool by_receiving,
                    std::function<void()> on_gone)
        : reader_(reader),
          by_receiving_(by_receiving && http::MessageReader<Socket>::can_wait_by_receiving),
          on_gone_(std::move(on_gone)) {}
    ClientGoneWatch(const ClientGoneWatch&) = delete;
    ClientGoneWatch& operator=(const ClientGoneWatch&) = delete;
    ~ClientGoneWatch() { stop(); }

    void start();  // once; later calls do nothing
    void stop();
    bool gone() const { return state_ && state_->gone; }

  private:
    struct State {
        Socket* socket;
        std::function<void()> on_gone;
        bool stopped = false;
        bool gone = false;
    };
    static void watch(const std::shared_ptr<State>& state);

    http::MessageReader<Socket>& reader_;
    const bool by_receiving_;
    std::function<void()> on_gone_;
    std::shared_ptr<State> state_;  // from start() on
};

}  // namespace passenger::proxy

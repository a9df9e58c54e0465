// While the app prepares a response (a long poll may take minutes), notices a client that closed
// its connection, so the app connection can be closed and the app sees its request go away
// instead of working for nobody until its next write. Bytes from the client (a pipelined request)
// end the watch: they say nothing about the client leaving.
//
// It waits for readability on the client socket itself, which costs nothing per request beyond
// what the next request's read needs anyway: the socket is already registered with the reactor,
// and a wait left pending by stop() is the one the connection's next read rides on. It never
// cancels the socket (the response may still be being written): stop() only makes the pending
// wait's completion a no-op. The wait (an epoll_ctl) and its state are set up by start(), which
// forward() calls only once the app's response is not there at once: a response already waiting
// when it is read (the usual case under load) costs no watch at all.
#pragma once

#include <asio/ip/tcp.hpp>

#include <functional>
#include <memory>

namespace passenger::proxy {

// `Socket`: asio::ip::tcp::socket, or tls::TlsSocket for HTTPS (instantiated for both).
template <typename Socket>
class ClientGoneWatch {
  public:
    // Calls `on_gone` (at most once, from the event loop) if the client closes between start()
    // and stop(); a client that closed before start() is reported too.
    ClientGoneWatch(Socket& socket, std::function<void()> on_gone)
        : socket_(socket), on_gone_(std::move(on_gone)) {}
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

    Socket& socket_;
    std::function<void()> on_gone_;
    std::shared_ptr<State> state_;  // from start() on
};

}  // namespace passenger::proxy

// Sends one client request to an app process and relays the response back: over a kept-alive
// connection to the process when there is one, streaming bodies both ways with back-pressure.
#pragma once

#include "common/thread_spares.hpp"
#include "http/body_buffer.hpp"
#include "http/message_reader.hpp"
#include "pool/group.hpp"
#include "proxy/client_writer.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>

namespace passenger::proxy {

using ClientReader = http::MessageReader<asio::ip::tcp::socket>;

// What became of a forwarded request, for the access log and the metrics.
struct ForwardOutcome {
    using Clock = std::chrono::steady_clock;
    int status = 0;                   // the app's status, or the proxy's error page's; 0: none sent
    uint64_t error_page_bytes = 0;    // an error page written past the client's writer
    Clock::time_point asked{};        // forward() began asking the pool for a process
    Clock::time_point got_process{};  // a process took it (unset: none did)
    Clock::time_point answered{};     // the app's response was complete (or became a tunnel)
};

// The client's side of a tunnel (proxy/tunnel.hpp), handed over by the client connection: the
// tunnel owns its socket from then on, so the connection's coroutines and buffers are gone while
// the tunnel waits. `Stream`: the client's, asio::ip::tcp::socket or tls::TlsSocket.
template <typename Stream>
struct TunnelClient {
    Stream socket;
    std::chrono::seconds send_timeout;  // a write to the client must end within it (0: none)
    // Called once the socket is in its place for the tunnel's life (shutdown may close it).
    std::function<void(Stream&)> opened;
    // Called once when the tunnel ended and closed the socket, with the bytes sent to the client.
    std::function<void(uint64_t bytes_to_client)> ended;
};

// What a client connection keeps between its requests so that a request allocates no head
// strings: the request head written to the app, and the response head handed to the writer
// (whose queue gives the string it swapped out back here, storage included).
// An idle connection holds none: they go to the thread's spare strings (common/thread_spares)
// and the next request on the loop takes them from there.
struct HeadStorage {
    std::string to_app;
    std::string to_client;

    std::string& for_app() { return with_storage(to_app); }
    std::string& for_client() { return with_storage(to_client); }
    void release() {
        ThreadSpares<std::string>::give_back(to_app);
        ThreadSpares<std::string>::give_back(to_client);
    }

  private:
    static std::string& with_storage(std::string& head) {
        if (head.capacity() <= std::string().capacity()) head = ThreadSpares<std::string>::take();
        return head;
    }
};

// `Stream`: the client's, asio::ip::tcp::socket or tls::TlsSocket (proxy/ is instantiated for
// both).
template <typename Stream>
struct ClientContext {
    http::MessageReader<Stream>& reader;  // the request's head and body have been read
    std::string client_address;           // the peer, for X-Forwarded-For
    // The client used TLS (--ssl, or nginx got the request over TLS): X-Forwarded-Proto https,
    // and the sticky cookie is Secure.
    bool https = false;
    bool trusted_peer = false;  // --trusted-proxy: the client's X-Forwarded-* are kept
    // The whole body (empty for a bodiless request, upgrades included), read by the front end
    // before the app is involved.
    const http::BodyBuffer& request_body;
    bool keep_alive = false;  // whether the client connection may continue after this request
    // Takes the response; after forward() returns it may still be writing (the caller awaits
    // writer->finish()), while the app process is free already.
    ClientWriter<Stream>* writer = nullptr;
    // When set, receives the pid of the process given the request (passenger-status, which
    // reads it from another thread).
    std::atomic<pid_t>* process_pid = nullptr;
    ForwardOutcome* outcome = nullptr;  // when set, filled in
    // Called when the request became a tunnel (an upgrade the app accepted): the client
    // connection hands its socket over (see TunnelClient) and ends without closing it.
    std::function<TunnelClient<Stream>()> detach_for_tunnel = {};
    // Header lines (each ending in CRLF) the proxy adds to the app's response: the sticky
    // session cookie.
    std::string extra_response_headers = {};
    // The connection's head storage; null: the request's own strings.
    HeadStorage* heads = nullptr;
};

// Returns whether the client connection may carry another request (once the writer finished).
template <typename Stream>
asio::awaitable<bool> forward(ClientContext<Stream>& client, pool::Group& group);

}  // namespace passenger::proxy

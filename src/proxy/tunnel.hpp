// Upgrades (WebSockets, any protocol switch): once the app answered 101, the client connection
// and the app connection become one two-way byte stream. Bytes are copied as they arrive, never
// buffered beyond one read, and no request timeout applies: an idle tunnel stays open. Each
// write to the client must still make progress within the send timeout (a client that stopped
// reading is cut, not waited for).
//
// The tunnel holds its pool session, so the process counts it as a request in flight. It ends
// when either side closes (the close is passed on to the other side, which gets a few seconds to
// finish), when either side fails, or when the pool closes it because its process drains or
// stops (unless --no-abort-websockets-on-process-shutdown).
#pragma once

#include "pool/session.hpp"
#include "proxy/forward.hpp"
#include "proxy/response_relay.hpp"

#include <string>
#include <string_view>

namespace passenger::proxy {

// The 101 head the client gets: the app's status line and headers, keeping Upgrade and
// Connection (hop-by-hop otherwise) and dropping body framing; `extra_header_lines` (each ending
// in CRLF, e.g. a sticky-session Set-Cookie) are added.
std::string upgrade_response_head(const http::MessageHead& response,
                                  std::string_view extra_header_lines);

// Starts the tunnel and returns at once: it runs on its own, on completion handlers (no coroutine
// frame), owning the app's socket, `session` and the client's socket (from
// client.detach_for_tunnel(), called only once the tunnel can start) until it ends. `app` has
// just read the 101 head. Returns false when it cannot start: the caller still owns everything.
// `Client`: asio::ip::tcp::socket, or tls::TlsSocket (its handler-based waits, non-blocking
// read_some/write_some and async_write_some are all the tunnel uses; instantiated for both).
template <typename Client>
bool start_tunnel(ClientContext<Client>& client, AppReader& app, pool::Session& session,
                  std::string response_head);

}  // namespace passenger::proxy

// Reads an app's response and hands it to the client's writer as it arrives: the app is read as
// fast as it writes (what the client cannot take yet waits in the writer's buffer, spilling to
// disk), and every byte goes out as soon as the client can take it, so long polling, server-sent
// events and chunked streams arrive as written.
#pragma once

#include "proxy/forward.hpp"
#include "spawn/app_endpoint.hpp"

#include <asio/awaitable.hpp>

namespace passenger::proxy {

using AppReader = http::MessageReader<spawn::AppSocket>;

// `upgraded`: the app answered 101 (its head is read, nothing was sent to the client yet).
enum class Relay { done, app_failed_before_response, aborted, upgraded };

struct RelayState {
    bool keep_alive = false;        // the client connection may continue
    bool app_reusable = false;      // the app connection may carry another request
    bool response_started = false;  // bytes of the response were handed to the client's writer
};

// Returns as soon as the app's response is complete (done): the caller frees the app connection
// and process then, while client.writer may still be writing. `aborted`: the response could not
// be completed (the app's side failed mid-body, or the client went away); what the writer holds
// still reaches the client, then the connection must close.
template <typename Stream>
asio::awaitable<Relay> relay_response(ClientContext<Stream>& client, AppReader& app,
                                      RelayState& state);

}  // namespace passenger::proxy

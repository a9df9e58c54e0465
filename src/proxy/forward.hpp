// Sends one client request to an app process and relays the response back: over a kept-alive
// connection to the process when there is one, streaming bodies both ways with back-pressure.
#pragma once

#include "http/message_reader.hpp"
#include "pool/group.hpp"

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <string>

namespace passenger::proxy {

using ClientReader = http::MessageReader<asio::ip::tcp::socket>;

struct ClientContext {
    ClientReader& reader;        // the request's head has been read; its body has not
    std::string client_address;  // for X-Forwarded-For
    bool keep_alive = false;     // whether the client connection may continue after this request
};

// Returns whether the client connection may carry another request.
asio::awaitable<bool> forward(ClientContext& client, pool::Group& group);

}  // namespace passenger::proxy

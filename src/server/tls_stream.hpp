// The decrypted byte stream of an established TLS connection, as the HTTP/2 session uses it
// (server/http2_session.hpp). One read and one write may be in progress at once.
#pragma once

#include <asio/awaitable.hpp>

#include <cstddef>

namespace passenger::server {

class TlsStream {
  public:
    // Reads what is there (waiting for something); 0 at the end of the stream or on failure.
    virtual asio::awaitable<size_t> read_some(char* buffer, size_t size) = 0;
    // Writes all of `data` (copied if the client does not take it at once, so it may be reused
    // as soon as this suspends); false when the client failed or stalled past --send-timeout.
    virtual asio::awaitable<bool> write_all(const char* data, size_t length) = 0;

  protected:
    ~TlsStream() = default;
};

}  // namespace passenger::server

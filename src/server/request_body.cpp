#include "server/request_body.hpp"

#include "common/log.hpp"
#include "http/http2_stream_socket.hpp"
#include "tls/tls_socket.hpp"

#include <cerrno>

namespace passenger::server {
namespace {

// A full disk or quota is the server's lack of room (507); a file over the file system's (or
// RLIMIT_FSIZE's) largest size is a body too large for this server (413).
BodyReadResult storage_failure(std::error_code error) {
    if (error == std::errc::no_space_on_device || error.value() == EDQUOT)
        return BodyReadResult::no_space;
    if (error == std::errc::file_too_large) return BodyReadResult::too_large;
    return BodyReadResult::storage_failed;
}

}  // namespace

template <typename Stream>
asio::awaitable<BodyReadResult> read_request_body(http::MessageReader<Stream>& reader,
                                                  http::BodyBuffer& body, std::string& scratch,
                                                  const BodyReadLimits& limits,
                                                  SocketDeadline& deadline) {
    while (!reader.parser().message_complete()) {
        scratch.clear();
        // nginx's client_body_timeout: the time between two reads, not for the whole body.
        deadline.expires_after(limits.timeout);
        http::ReadStatus status = co_await reader.read_body(scratch);
        if (status == http::ReadStatus::parse_error) co_return BodyReadResult::invalid;
        if (status != http::ReadStatus::ok) {
            co_return deadline.expired() ? BodyReadResult::timed_out : BodyReadResult::client_gone;
        }
        if (limits.max_size != 0 && body.size() + scratch.size() > limits.max_size)
            co_return BodyReadResult::too_large;
        if (std::error_code error = body.append(scratch)) {
            log::error("Cannot buffer a request body in {}: {}", body.directory(), error.message());
            co_return storage_failure(error);
        }
    }
    deadline.disarm();
    co_return BodyReadResult::complete;
}

template asio::awaitable<BodyReadResult> read_request_body(
    http::MessageReader<asio::ip::tcp::socket>&, http::BodyBuffer&, std::string&,
    const BodyReadLimits&, SocketDeadline&);
template asio::awaitable<BodyReadResult> read_request_body(http::MessageReader<tls::TlsSocket>&,
                                                           http::BodyBuffer&, std::string&,
                                                           const BodyReadLimits&, SocketDeadline&);
template asio::awaitable<BodyReadResult> read_request_body(
    http::MessageReader<http::Http2StreamSocket>&, http::BodyBuffer&, std::string&,
    const BodyReadLimits&, SocketDeadline&);

}  // namespace passenger::server

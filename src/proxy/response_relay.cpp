#include "proxy/response_relay.hpp"

#include "common/log.hpp"
#include "http/http2_stream_socket.hpp"
#include "http/write_helpers.hpp"
#include "proxy/message_heads.hpp"
#include "tls/tls_socket.hpp"

#include <fmt/format.h>

namespace passenger::proxy {
namespace {

using http::append_chunk;

// A response a client takes slower than the app produces it waits on disk, up to this much (as
// nginx's proxy_max_temp_file_size); beyond, the app is read only as fast as the client reads.
constexpr uint64_t max_buffered_response = uint64_t(1) << 30;

bool app_connection_reusable(AppReader& app) {
    return app.head().keep_alive && !app.has_buffered_bytes() && !app.head().upgrade;
}

}  // namespace

template <typename Stream>
asio::awaitable<Relay> relay_response(ClientContext<Stream>& client, AppReader& app,
                                      RelayState& state) {
    const http::MessageHead& request = client.reader.head();
    app.parser().expect_no_body(request.method == "HEAD");
    for (;;) {
        if (co_await app.read_head() != http::ReadStatus::ok)
            co_return Relay::app_failed_before_response;
        int status = app.head().status;
        // Interim responses (we answered Expect ourselves) are dropped; 101 starts a tunnel.
        if (status >= 100 && status < 200 && status != 101) {
            std::string ignored;
            co_await app.read_body(ignored);
            app.next_message();
            app.parser().expect_no_body(request.method == "HEAD");
            continue;
        }
        break;
    }
    if (app.head().status == 101) co_return Relay::upgraded;
    // What arrived with the head goes after it. A response that is complete already (the
    // common case) is queued whole; the writer sends it once the caller has freed the app.
    std::string own_pending;
    std::string& pending = client.heads ? client.heads->for_client() : own_pending;
    ClientResponsePlan plan = client_response_plan(app.head(), request, client.keep_alive, pending);
    // Headers of the proxy's own (the sticky-session cookie) go before the blank line.
    pending.insert(pending.size() - 2, client.extra_response_headers);
    state.keep_alive = plan.keep_alive;
    state.response_started = true;
    ClientWriter<Stream>& writer = *client.writer;
    const bool chunked = plan.framing == BodyFraming::chunked;
    auto ended_early = [&] {
        log::warn("App response for {} {} ended early", request.method, request.target);
        return Relay::aborted;
    };

    std::string piece;
    if (app.read_buffered_body(chunked ? piece : pending) != http::ReadStatus::ok)
        co_return ended_early();
    if (chunked) append_chunk(pending, piece);
    if (app.parser().message_complete()) {
        if (chunked) pending.append("0\r\n\r\n");
        writer.queue(pending);
        state.app_reusable = app_connection_reusable(app);
        co_return Relay::done;
    }

    // The rest streams through the writer. A client that fails meanwhile (gone, or not reading
    // within the send timeout) ends the wait for the app at once.
    writer.on_failure([&app] {
        asio::error_code ignored;
        app.stream().cancel(ignored);
    });
    struct ClearHook {
        ClientWriter<Stream>& writer;
        ~ClearHook() { writer.on_failure(nullptr); }
    } clear_hook{writer};
    writer.write(pending);
    while (!app.parser().message_complete()) {
        if (writer.queued() >= max_buffered_response)
            co_await writer.wait_until_below(max_buffered_response / 2);
        // The buffer could not take the last piece (a full disk): no more until it could.
        if (writer.holding_unbuffered()) co_await writer.wait_until_buffered();
        if (writer.failed()) co_return Relay::aborted;
        piece.clear();
        if (co_await app.read_body(piece) != http::ReadStatus::ok) {
            if (writer.failed()) co_return Relay::aborted;
            co_return ended_early();
        }
        if (chunked) {
            append_chunk(pending, piece);
            if (app.parser().message_complete()) pending.append("0\r\n\r\n");
            writer.write(pending);
        } else {
            writer.write(piece);
        }
    }
    state.app_reusable = app_connection_reusable(app);
    co_return writer.failed() ? Relay::aborted : Relay::done;
}

template asio::awaitable<Relay> relay_response(ClientContext<asio::ip::tcp::socket>&, AppReader&,
                                               RelayState&);
template asio::awaitable<Relay> relay_response(ClientContext<tls::TlsSocket>&, AppReader&,
                                               RelayState&);
template asio::awaitable<Relay> relay_response(ClientContext<http::Http2StreamSocket>&, AppReader&,
                                               RelayState&);

}  // namespace passenger::proxy

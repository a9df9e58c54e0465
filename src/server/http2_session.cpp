#include "server/http2_session.hpp"

#include "common/log.hpp"
#include "http/http2_stream_socket.hpp"
#include "http/response_head.hpp"
#include "server/connection.hpp"
#include "server/http2_messages.hpp"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <string_view>

namespace passenger::server {
namespace {

constexpr uint32_t max_concurrent_streams = 100;
// Response bytes queued per stream before its response is read no further from the connection
// code (which buffers the rest, as for a slow HTTP/1.1 client).
constexpr size_t max_queued_response = 64 * 1024;
// Frames gathered for one write to the TLS stream: one TLS record's payload.
constexpr size_t max_write_batch = 16 * 1024;

// A condition to wait on: wait() returns when notify() is called (or the timer is cancelled).
class Signal {
  public:
    explicit Signal(const asio::any_io_executor& executor) : timer_(executor) {}
    asio::awaitable<void> wait() {
        timer_.expires_at(asio::steady_timer::time_point::max());
        asio::error_code ignored;
        co_await timer_.async_wait(asio::redirect_error(asio::use_awaitable, ignored));
    }
    void notify() { timer_.cancel(); }

  private:
    asio::steady_timer timer_;
};

class Http2Session;

// One stream: its request fields, the in-memory stream its connection code is served over, and
// its response as that code writes it (HTTP/1.1, parsed once more here into HEADERS and DATA).
struct Stream final : http::Http2StreamOwner {
    Stream(Http2Session& session, int32_t id) : session(session), id(id) {}
    size_t take_response(std::string_view bytes) override;
    size_t response_room() const override {
        return response_body.size() >= max_queued_response
                   ? 0
                   : max_queued_response - response_body.size();
    }
    void end_response() override;
    void request_consumed(size_t data_bytes) override;

    Http2Session& session;
    int32_t id;
    Http2Request request;
    size_t field_bytes = 0;  // the header list's size as RFC 9113 6.5.2 counts it
    bool tunnel = false;     // a WebSocket: an HTTP/1.1 upgrade to the app, then bytes both ways
    bool chunked = false;
    bool closed = false;
    bool request_complete = false;
    std::shared_ptr<http::Http2StreamChannel> channel;  // from begin_stream() on

    http::MessageParser response{http::MessageParser::Kind::response};
    bool response_started = false;  // its head was parsed (and HEADERS submitted)
    bool raw_response = false;      // a tunnel after its 101: the app's bytes as they come
    bool response_ended = false;
    bool response_failed = false;  // reset: what the connection code still writes is dropped
    std::string response_body;     // from the connection code, not yet taken by nghttp2
    bool response_complete = false;
    bool deferred = false;
};

class Http2Session : public std::enable_shared_from_this<Http2Session> {
    friend struct Stream;

  public:
    Http2Session(TlsStream& tls, Server& server, std::string address,
                 const asio::any_io_executor& executor)
        : tls_(tls),
          server_(server),
          address_(std::move(address)),
          executor_(executor),
          output_ready_(executor),
          idle_(executor) {}
    ~Http2Session() {
        if (session_) nghttp2_session_del(session_);
    }

    asio::awaitable<void> run();

  private:
    bool start();
    asio::awaitable<void> read_loop();
    asio::awaitable<void> write_loop();
    void arm_idle_timer();
    void begin_stream(Stream& stream, bool end_stream);
    void end_request(Stream& stream);
    size_t take_response(Stream& stream, std::string_view bytes);
    bool start_response(Stream& stream);
    void on_response_progress(Stream& stream);
    void end_response(Stream& stream);
    void reset_stream(Stream& stream);
    void submit_response(Stream& stream, const http::MessageHead& head, bool has_body);
    void close_stream(Stream& stream);

    static Http2Session& of(void* user_data) { return *static_cast<Http2Session*>(user_data); }
    static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
    static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                         size_t name_length, const uint8_t* value, size_t value_length, uint8_t,
                         void* user_data);
    static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data);
    static int on_data_chunk(nghttp2_session*, uint8_t flags, int32_t stream_id,
                             const uint8_t* data, size_t length, void* user_data);
    static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data);
    static ssize_t read_response_body(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                                      uint32_t* flags, nghttp2_data_source* source, void*);

    TlsStream& tls_;
    Server& server_;
    std::string address_;
    asio::any_io_executor executor_;
    nghttp2_session* session_ = nullptr;
    std::map<int32_t, std::shared_ptr<Stream>> streams_;
    Signal output_ready_;
    asio::steady_timer idle_;
    bool finished_ = false;
};

bool Http2Session::start() {
    nghttp2_session_callbacks* callbacks;
    if (nghttp2_session_callbacks_new(&callbacks) != 0) return false;
    nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
    nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, on_frame_recv);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data_chunk);
    nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_stream_close);
    nghttp2_option* option;
    nghttp2_option_new(&option);
    // Request body bytes are acknowledged only once they went on to the connection code.
    nghttp2_option_set_no_auto_window_update(option, 1);
    nghttp2_option_set_max_settings(option, 32);
    // CVE-2024-28182: a header block in more than 8 CONTINUATION frames ends the connection.
    nghttp2_option_set_max_continuations(option, 8);
    // CVE-2023-44487: at most 1000 resets at once, then 33 a second; past that, GOAWAY.
    nghttp2_option_set_stream_reset_rate_limit(option, 1000, 33);
    int result = nghttp2_session_server_new2(&session_, callbacks, this, option);
    nghttp2_option_del(option);
    nghttp2_session_callbacks_del(callbacks);
    if (result != 0) return false;
    const auto header_size =
        static_cast<uint32_t>(server_.options().front_end.client_max_header_size);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent_streams},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, header_size},
        // RFC 8441: WebSockets over h2 (extended CONNECT with :protocol websocket).
        {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
    };
    return nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings)) == 0;
}

asio::awaitable<void> Http2Session::run() {
    auto self = shared_from_this();
    if (!start()) co_return;
    arm_idle_timer();
    asio::co_spawn(
        executor_, [self]() { return self->read_loop(); }, asio::detached);
    co_await write_loop();
    finished_ = true;
    idle_.cancel();
    for (auto& [id, stream] : streams_) close_stream(*stream);
    streams_.clear();
}

asio::awaitable<void> Http2Session::read_loop() {
    auto self = shared_from_this();
    std::array<char, 16 * 1024> buffer;
    while (!finished_) {
        size_t length = co_await tls_.read_some(buffer.data(), buffer.size());
        if (finished_) break;
        if (length == 0) {
            finished_ = true;
        } else if (ssize_t result = nghttp2_session_mem_recv(
                       session_, reinterpret_cast<const uint8_t*>(buffer.data()), length);
                   result < 0) {
            // The client broke the protocol or flooded us (too many CONTINUATION frames, say):
            // nothing more is read, and the write loop ends once GOAWAY has gone out.
            log::notice("Ending an HTTP/2 connection from {}: {}", address_,
                        nghttp2_strerror(static_cast<int>(result)));
            const bool flood =
                result == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS || result == NGHTTP2_ERR_FLOODED;
            if (nghttp2_session_terminate_session(
                    session_, flood ? NGHTTP2_ENHANCE_YOUR_CALM : NGHTTP2_PROTOCOL_ERROR) != 0)
                finished_ = true;
            output_ready_.notify();
            co_return;
        }
        output_ready_.notify();
    }
}

// Sends whatever nghttp2 has to send, then waits until something changes; ends when the session
// is over (GOAWAY exchanged, the client gone, or a write failed).
asio::awaitable<void> Http2Session::write_loop() {
    std::string batch;
    for (;;) {
        for (;;) {
            // nghttp2 hands out one frame at a time: small frames (a response's HEADERS and its
            // DATA, other streams' frames) are gathered into one TLS record and one write(2).
            batch.clear();
            while (batch.size() < max_write_batch) {
                const uint8_t* data = nullptr;
                ssize_t length = nghttp2_session_mem_send(session_, &data);
                if (length < 0) co_return;
                if (length == 0) break;
                batch.append(reinterpret_cast<const char*>(data), static_cast<size_t>(length));
            }
            if (batch.empty()) break;
            if (!co_await tls_.write_all(batch.data(), batch.size())) co_return;
        }
        if (finished_ ||
            (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)))
            co_return;
        co_await output_ready_.wait();
    }
}

// An h2 connection with no stream open for --keepalive-timeout says GOAWAY and ends.
void Http2Session::arm_idle_timer() {
    auto timeout = server_.front_end().keepalive_timeout;
    if (timeout == timeout.zero()) return;
    idle_.expires_after(timeout);
    idle_.async_wait([self = shared_from_this()](const asio::error_code& error) {
        if (error || self->finished_) return;
        if (!self->streams_.empty()) return self->arm_idle_timer();
        nghttp2_session_terminate_session(self->session_, NGHTTP2_NO_ERROR);
        self->output_ready_.notify();
    });
}

int Http2Session::on_begin_headers(nghttp2_session* session, const nghttp2_frame* frame,
                                   void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    Http2Session& self = of(user_data);
    auto stream = std::make_shared<Stream>(self, frame->hd.stream_id);
    nghttp2_session_set_stream_user_data(session, frame->hd.stream_id, stream.get());
    self.streams_[frame->hd.stream_id] = std::move(stream);
    return 0;
}

// nghttp2 has checked the field (RFC 9113 8.2 and 8.3: names, pseudo-headers, no
// connection-specific fields) before this is called.
int Http2Session::on_header(nghttp2_session* session, const nghttp2_frame* frame,
                            const uint8_t* name_bytes, size_t name_length,
                            const uint8_t* value_bytes, size_t value_length, uint8_t,
                            void* user_data) {
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    auto* stream =
        static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (stream == nullptr || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;  // trailers
    std::string_view name(reinterpret_cast<const char*>(name_bytes), name_length);
    std::string_view value(reinterpret_cast<const char*>(value_bytes), value_length);
    // HPACK lets a few bytes name a long field again and again (an "HPACK bomb"): the list is
    // bounded as it is decoded, by the limit an HTTP/1.1 head has. nghttp2 decodes the rest of
    // the block without calling us, and ends a flood of CONTINUATION frames with GOAWAY.
    stream->field_bytes += name_length + value_length + 32;
    if (stream->field_bytes > of(user_data).server_.front_end().max_head_size) {
        log::notice(
            "Reset an HTTP/2 stream from {}: its header list is larger than "
            "--client-max-header-size ({} bytes)",
            of(user_data).address_, of(user_data).server_.front_end().max_head_size);
        stream->request.headers.clear();
        nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, stream->id,
                                  NGHTTP2_ENHANCE_YOUR_CALM);
        return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    }
    if (name == ":method") {
        stream->request.method = value;
    } else if (name == ":path") {
        stream->request.path = value;
    } else if (name == ":authority") {
        stream->request.authority = value;
    } else if (name == ":protocol") {
        stream->request.protocol = value;
    } else if (name == "cookie") {
        if (!stream->request.cookie.empty()) stream->request.cookie += "; ";
        stream->request.cookie += value;
    } else if (!name.starts_with(':') && name != "host" && name != "expect") {
        // (An Expect would make the connection code answer 100 Continue first.)
        stream->request.headers.emplace_back(name, value);
    }
    return 0;
}

int Http2Session::on_frame_recv(nghttp2_session* session, const nghttp2_frame* frame,
                                void* user_data) {
    Http2Session& self = of(user_data);
    auto* stream =
        static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, frame->hd.stream_id));
    if (stream == nullptr) return 0;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
        self.begin_stream(*stream, end_stream);
    } else if (end_stream &&
               (frame->hd.type == NGHTTP2_DATA || frame->hd.type == NGHTTP2_HEADERS)) {
        self.end_request(*stream);  // the last DATA frame, or trailers (dropped)
    }
    return 0;
}

int Http2Session::on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                                const uint8_t* data, size_t length, void*) {
    auto* stream = static_cast<Stream*>(nghttp2_session_get_stream_user_data(session, stream_id));
    std::string_view bytes(reinterpret_cast<const char*>(data), length);
    // Nobody reads it (the stream is closing, or its connection code is done): given back now.
    if (stream == nullptr || stream->closed || stream->request_complete || !stream->channel ||
        !stream->channel->deliver(bytes, stream->chunked))
        nghttp2_session_consume(session, stream_id, length);
    return 0;
}

int Http2Session::on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t, void* user_data) {
    Http2Session& self = of(user_data);
    auto found = self.streams_.find(stream_id);
    if (found == self.streams_.end()) return 0;
    self.close_stream(*found->second);
    self.streams_.erase(found);
    if (self.streams_.empty() && !self.finished_) self.arm_idle_timer();
    return 0;
}

void Http2Session::close_stream(Stream& stream) {
    stream.closed = true;
    if (!stream.channel) return;
    // The connection code sees its client go. What it did not read goes back to the connection's
    // window (outside nghttp2's callback: the stream is gone, the connection's count is not).
    const size_t unread = stream.channel->peer_gone();
    if (unread == 0 || finished_) return;
    asio::post(executor_, [self = shared_from_this(), unread] {
        if (self->finished_) return;
        nghttp2_session_consume_connection(self->session_, unread);
        self->output_ready_.notify();
    });
}

// The request as HTTP/1.1 (server/http2_messages.hpp), to a connection of its own over an
// in-memory stream on this loop.
void Http2Session::begin_stream(Stream& stream, bool end_stream) {
    Http1RequestHead head = http1_request_head(stream.request, end_stream);
    stream.chunked = head.chunked;
    stream.tunnel = stream.request.websocket();
    stream.request_complete = end_stream;
    stream.response.expect_no_body(stream.request.method == "HEAD");
    stream.channel = std::make_shared<http::Http2StreamChannel>(
        executor_, stream, std::move(head.text), stream.tunnel);
    if (end_stream) stream.channel->end_request(false);
    server_.expect_registration();
    asio::co_spawn(executor_,
                   serve_connection(http::Http2StreamSocket(stream.channel), server_,
                                    ConnectionOrigin{address_, true, true}),
                   asio::detached);
}

void Http2Session::end_request(Stream& stream) {
    if (stream.request_complete) return;
    stream.request_complete = true;
    if (stream.channel) stream.channel->end_request(stream.chunked);
}

size_t Stream::take_response(std::string_view bytes) {
    return session.take_response(*this, bytes);
}

void Stream::end_response() {
    session.end_response(*this);
}

// The client's window grows as the connection code reads the body (and the connection's, which
// all streams share).
void Stream::request_consumed(size_t data_bytes) {
    if (session.finished_) return;
    nghttp2_session_consume(session.session_, id, data_bytes);
    session.output_ready_.notify();
}

// The connection code's HTTP/1.1 response, parsed as it is written: the head becomes HEADERS,
// the body DATA (queued up to max_queued_response; past it the connection code buffers, as for a
// slow HTTP/1.1 client).
size_t Http2Session::take_response(Stream& stream, std::string_view bytes) {
    if (stream.closed || stream.response_failed || finished_ || stream.response_complete)
        return bytes.size();
    bytes = bytes.substr(0, stream.response_room());
    if (bytes.empty()) return 0;
    if (stream.raw_response) {
        stream.response_body.append(bytes);
        on_response_progress(stream);
        return bytes.size();
    }
    size_t used = 0;
    for (;;) {
        auto progress = stream.response.feed(bytes.substr(used), &stream.response_body);
        used += progress.consumed;
        if (progress.event == http::MessageParser::Event::error) {
            log::error("Reset an HTTP/2 stream from {}: its response is not valid HTTP/1.1 ({})",
                       address_, stream.response.error_reason());
            reset_stream(stream);
            return bytes.size();
        }
        if (progress.event == http::MessageParser::Event::need_more) break;
        // (A response to HEAD completes with its head: no head_complete event then.)
        if (!stream.response_started && start_response(stream)) {
            // A tunnel: what follows the 101 is the app's.
            stream.response_body.append(bytes.substr(used));
            used = bytes.size();
            break;
        }
        if (progress.event == http::MessageParser::Event::head_complete)
            continue;  // a bodiless response completes on the next (maybe empty) feed
        if (stream.response.head().status < 200) {  // an interim response: not passed on
            stream.response.reset();
            stream.response.expect_no_body(stream.request.method == "HEAD");
            stream.response_started = false;
            if (used < bytes.size()) continue;
            break;
        }
        stream.response_complete = true;
        used = bytes.size();  // nothing may follow the response
        break;
    }
    on_response_progress(stream);
    return used;
}

// The head is complete: HEADERS go out (a final response), or the stream becomes a tunnel (a
// WebSocket's 101; returns true).
bool Http2Session::start_response(Stream& stream) {
    stream.response_started = true;
    const http::MessageHead& head = stream.response.head();
    if (stream.tunnel && head.status == 101) {
        submit_response(stream, head, true);
        stream.raw_response = true;
        return true;
    }
    if (head.status < 200) return false;
    const bool has_body =
        stream.request.method != "HEAD" && head.status != 204 && head.status != 304;
    submit_response(stream, head, has_body);
    return false;
}

void Http2Session::on_response_progress(Stream& stream) {
    if (stream.deferred && (!stream.response_body.empty() || stream.response_complete)) {
        stream.deferred = false;
        nghttp2_session_resume_data(session_, stream.id);
    }
    output_ready_.notify();
}

// The connection code ended its side: a response cut short (or none at all) resets the stream,
// so that the client does not take it for the whole response; a tunnel's end is END_STREAM.
void Http2Session::end_response(Stream& stream) {
    if (stream.response_ended) return;
    stream.response_ended = true;
    if (stream.closed || stream.response_failed || finished_ || stream.response_complete) return;
    if (stream.raw_response ||
        (stream.response.head_complete() && stream.response.body_until_eof() &&
         stream.response.finish() == http::MessageParser::Event::message_complete)) {
        stream.response_complete = true;
        on_response_progress(stream);
        return;
    }
    reset_stream(stream);
}

void Http2Session::reset_stream(Stream& stream) {
    stream.response_failed = true;
    if (stream.closed || finished_) return;
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_INTERNAL_ERROR);
    output_ready_.notify();
}

void Http2Session::submit_response(Stream& stream, const http::MessageHead& head, bool has_body) {
    Http2ResponseFields fields(head, stream.tunnel);
    nghttp2_data_provider provider{};
    provider.source.ptr = &stream;
    provider.read_callback = read_response_body;
    nghttp2_submit_response(session_, stream.id, fields.data(), fields.size(),
                            has_body ? &provider : nullptr);
}

ssize_t Http2Session::read_response_body(nghttp2_session*, int32_t, uint8_t* buffer, size_t length,
                                         uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* stream = static_cast<Stream*>(source->ptr);
    size_t count = std::min(length, stream->response_body.size());
    std::memcpy(buffer, stream->response_body.data(), count);
    stream->response_body.erase(0, count);
    if (stream->channel && stream->response_room() > 0) stream->channel->notify_writable();
    if (stream->response_body.empty()) {
        if (stream->response_complete) {
            *flags |= NGHTTP2_DATA_FLAG_EOF;
        } else if (count == 0) {
            stream->deferred = true;
            return NGHTTP2_ERR_DEFERRED;
        }
    }
    return static_cast<ssize_t>(count);
}

}  // namespace

asio::awaitable<void> serve_http2(TlsStream& stream, Server& server, std::string address) {
    auto executor = co_await asio::this_coro::executor;
    auto session = std::make_shared<Http2Session>(stream, server, std::move(address), executor);
    co_await session->run();
}

}  // namespace passenger::server

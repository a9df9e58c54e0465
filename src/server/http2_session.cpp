#include "server/http2_session.hpp"

#include "common/log.hpp"
#include "http/message_reader.hpp"
#include "http/response_head.hpp"
#include "http/write_helpers.hpp"
#include "server/connection.hpp"
#include "server/http2_messages.hpp"

#include <fmt/format.h>
#include <nghttp2/nghttp2.h>
#include <sys/socket.h>
#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/redirect_error.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <array>
#include <cstring>
#include <map>
#include <memory>

namespace passenger::server {
namespace {

constexpr uint32_t max_concurrent_streams = 100;
// Response bytes queued per stream before its response is read no further from the connection
// code (which buffers the rest, as for a slow HTTP/1.1 client).
constexpr size_t max_queued_response = 64 * 1024;
constexpr size_t max_response_head = 64 * 1024;

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

struct Stream {
    Stream(int32_t id, const asio::any_io_executor& executor)
        : id(id), pair_end(executor), to_app_ready(executor), drained(executor) {}

    int32_t id;
    Http2Request request;
    size_t field_bytes = 0;  // the header list's size as RFC 9113 6.5.2 counts it
    bool tunnel = false;     // a WebSocket: an HTTP/1.1 upgrade to the app, then bytes both ways
    bool chunked = false;
    bool closed = false;

    asio::ip::tcp::socket pair_end;  // ours; serve_connection() has the other
    std::string to_app;              // request bytes waiting to go to the connection code
    size_t to_app_data = 0;          // of which DATA payload (window to give back once sent)
    bool request_complete = false;
    Signal to_app_ready;

    std::string response_body;  // read from the connection code, not yet taken by nghttp2
    bool response_complete = false;
    bool deferred = false;
    Signal drained;
};

class Http2Session : public std::enable_shared_from_this<Http2Session> {
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
    asio::awaitable<void> send_to_app(std::shared_ptr<Stream> stream);
    asio::awaitable<void> relay_response(std::shared_ptr<Stream> stream);
    asio::awaitable<void> relay_tunnel(std::shared_ptr<Stream> stream);
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
    for (;;) {
        for (;;) {
            const uint8_t* data = nullptr;
            ssize_t length = nghttp2_session_mem_send(session_, &data);
            if (length < 0) co_return;
            if (length == 0) break;
            if (!co_await tls_.write_all(reinterpret_cast<const char*>(data),
                                         static_cast<size_t>(length)))
                co_return;
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
    auto stream = std::make_shared<Stream>(frame->hd.stream_id, self.executor_);
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
    if (stream == nullptr || stream->closed || stream->request_complete) {
        nghttp2_session_consume(session, stream_id, length);
        return 0;
    }
    std::string_view bytes(reinterpret_cast<const char*>(data), length);
    if (stream->chunked) {
        http::append_chunk(stream->to_app, bytes);
    } else {
        stream->to_app.append(bytes);
    }
    stream->to_app_data += length;
    stream->to_app_ready.notify();
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
    asio::error_code ignored;
    stream.pair_end.close(ignored);  // the connection code sees its client go
    stream.to_app_ready.notify();
    stream.drained.notify();
}

// The request as HTTP/1.1 (server/http2_messages.hpp), to a connection of its own.
void Http2Session::begin_stream(Stream& stream, bool end_stream) {
    Http1RequestHead head = http1_request_head(stream.request, end_stream);
    stream.to_app = std::move(head.text);
    stream.chunked = head.chunked;
    stream.tunnel = stream.request.websocket();
    stream.request_complete = end_stream;

    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0, pair) != 0) {
        log::error("Cannot serve an HTTP/2 stream from {}: socketpair: {}", address_,
                   std::strerror(errno));
        nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, NGHTTP2_REFUSED_STREAM);
        return;
    }
    asio::error_code error;
    asio::ip::tcp::socket served(executor_);
    stream.pair_end.assign(asio::ip::tcp::v4(), pair[0], error);
    served.assign(asio::ip::tcp::v4(), pair[1], error);
    server_.expect_registration();
    asio::co_spawn(
        executor_,
        serve_connection(std::move(served), server_, ConnectionOrigin{address_, true, true}),
        asio::detached);
    std::shared_ptr<Stream> shared = streams_.at(stream.id);
    asio::co_spawn(executor_, send_to_app(shared), asio::detached);
    asio::co_spawn(executor_, relay_response(shared), asio::detached);
}

void Http2Session::end_request(Stream& stream) {
    if (stream.request_complete) return;
    stream.request_complete = true;
    if (stream.chunked) stream.to_app += "0\r\n\r\n";
    stream.to_app_ready.notify();
}

// Request bytes go on as they come; the client's window is given back as they leave.
asio::awaitable<void> Http2Session::send_to_app(std::shared_ptr<Stream> stream) {
    auto self = shared_from_this();
    std::string sending;
    while (!stream->closed) {
        if (stream->to_app.empty()) {
            if (stream->request_complete) break;
            co_await stream->to_app_ready.wait();
            continue;
        }
        sending.clear();
        sending.swap(stream->to_app);
        size_t data = std::exchange(stream->to_app_data, 0);
        asio::error_code error;
        co_await asio::async_write(stream->pair_end, asio::buffer(sending),
                                   asio::redirect_error(asio::use_awaitable, error));
        if (error || stream->closed) break;
        if (data > 0 && !finished_) {
            nghttp2_session_consume(session_, stream->id, data);
            output_ready_.notify();
        }
    }
    // A WebSocket's client ended its side (END_STREAM): the app reads the end of its input.
    asio::error_code ignored;
    if (stream->tunnel && stream->request_complete && !stream->closed)
        stream->pair_end.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
}

// The connection code's HTTP/1.1 response, as HEADERS and DATA frames.
asio::awaitable<void> Http2Session::relay_response(std::shared_ptr<Stream> stream) {
    auto self = shared_from_this();
    http::MessageReader<asio::ip::tcp::socket> reader(
        stream->pair_end, http::MessageParser::Kind::response, max_response_head);
    reader.parser().expect_no_body(stream->request.method == "HEAD");
    if (co_await reader.read_head() != http::ReadStatus::ok) {
        if (!stream->closed && !finished_) {
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id,
                                      NGHTTP2_INTERNAL_ERROR);
            output_ready_.notify();
        }
        co_return;
    }
    const http::MessageHead& head = reader.head();
    const bool has_body =
        stream->request.method != "HEAD" && head.status != 204 && head.status != 304;
    if (stream->closed || finished_) co_return;
    if (stream->tunnel && head.status == 101) {
        submit_response(*stream, head, true);
        stream->response_body = reader.take_buffered();
        co_return co_await relay_tunnel(stream);
    }
    submit_response(*stream, head, has_body);
    output_ready_.notify();
    std::string piece;
    while (has_body && !stream->closed) {
        piece.clear();
        http::ReadStatus status = co_await reader.read_body(piece);
        if (stream->closed || finished_) co_return;
        if (status != http::ReadStatus::ok) {
            // Cut short: the client must not take it for the whole response.
            nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id,
                                      NGHTTP2_INTERNAL_ERROR);
            output_ready_.notify();
            co_return;
        }
        stream->response_body += piece;
        stream->response_complete = reader.parser().message_complete();
        if (stream->deferred) {
            stream->deferred = false;
            nghttp2_session_resume_data(session_, stream->id);
            output_ready_.notify();
        }
        if (stream->response_complete) break;
        while (stream->response_body.size() > max_queued_response && !stream->closed)
            co_await stream->drained.wait();
    }
}

// The app's bytes after its 101, as DATA until it closes (then END_STREAM), paced like a body.
asio::awaitable<void> Http2Session::relay_tunnel(std::shared_ptr<Stream> stream) {
    output_ready_.notify();
    std::array<char, 16 * 1024> buffer;
    while (!stream->closed && !finished_) {
        while (stream->response_body.size() > max_queued_response && !stream->closed)
            co_await stream->drained.wait();
        if (stream->closed || finished_) co_return;
        asio::error_code error;
        size_t length = co_await stream->pair_end.async_read_some(
            asio::buffer(buffer), asio::redirect_error(asio::use_awaitable, error));
        if (stream->closed || finished_) co_return;
        stream->response_body.append(buffer.data(), length);
        stream->response_complete = static_cast<bool>(error);  // the app closed (or failed)
        if (stream->deferred) {
            stream->deferred = false;
            nghttp2_session_resume_data(session_, stream->id);
        }
        output_ready_.notify();
        if (error) co_return;
    }
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
    if (stream->response_body.size() <= max_queued_response) stream->drained.notify();
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

// Incremental HTTP/1.x parser for requests (from clients) and responses (from apps), over llhttp
// in its default strict mode. It stops after the head so the caller can decide what to do with the
// body, and after each message so pipelined bytes stay in the caller's buffer.
#pragma once

#include <llhttp.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace passenger::http {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct MessageHead {
    std::string method;  // requests only
    std::string target;  // requests only
    int status = 0;      // responses only
    int http_major = 1;
    int http_minor = 1;
    HeaderList headers;
    bool keep_alive = false;
    bool upgrade = false;
    bool chunked = false;
    std::optional<uint64_t> content_length;

    // Case-insensitive lookup of the first header with this name; nullptr when absent.
    const std::string* find(std::string_view name) const;
    bool has_body() const { return chunked || content_length.value_or(0) > 0; }
};

// Limits on a head, checked as it is parsed (so an oversized head is refused before it is
// buffered). The defaults are unlimited; server/ sets the client side's from the options.
struct HeadLimits {
    size_t max_target = std::numeric_limits<size_t>::max();        // request-target bytes: 414
    size_t max_header_line = std::numeric_limits<size_t>::max();   // name + value bytes: 431
    size_t max_header_count = std::numeric_limits<size_t>::max();  // header lines: 431
};

class MessageParser {
  public:
    enum class Kind { request, response };
    enum class Event { need_more, head_complete, message_complete, error };

    struct Progress {
        size_t consumed = 0;
        Event event = Event::need_more;
    };

    explicit MessageParser(Kind kind);
    ~MessageParser();  // the header list goes to this thread's spares
    MessageParser(const MessageParser&) = delete;
    MessageParser& operator=(const MessageParser&) = delete;

    // Parses as much of `data` as possible. Decoded body bytes are appended to `body`, which must
    // be non-null once the head is complete. Stops at the end of the head and at the end of the
    // message (the rest of `data` is left unconsumed).
    Progress feed(std::string_view data, std::string* body);
    // Tells the parser the stream ended (EOF); completes a close-delimited response body.
    Event finish();

    // For responses: the request was HEAD, so the response has no body whatever its headers say.
    void expect_no_body(bool no_body) { no_body_ = no_body; }
    void set_limits(const HeadLimits& limits) { limits_ = limits; }

    bool head_complete() const { return head_complete_; }
    bool message_complete() const { return message_complete_; }
    // True when a response's body runs until the connection closes.
    bool body_until_eof() const;
    const MessageHead& head() const { return head_; }
    MessageHead& head() { return head_; }
    std::string error_reason() const;
    // The status a client gets for the last error: 400, or 414/431 when a limit was exceeded.
    int error_status() const { return error_status_; }

    // Prepares for the next message on the same connection (the header list keeps its storage).
    void reset();
    // The same, freeing the head's storage: for a connection that waits (an idle keep-alive
    // connection, a tunnel), which then holds no header list (it goes to this thread's spares,
    // at most 16, for the next parser that needs one).
    void release_storage();

  private:
    static int on_method(llhttp_t* parser, const char* at, size_t length);
    static int on_url(llhttp_t* parser, const char* at, size_t length);
    static int on_header_field(llhttp_t* parser, const char* at, size_t length);
    static int on_header_value(llhttp_t* parser, const char* at, size_t length);
    static int on_header_field_complete(llhttp_t* parser);
    static int on_header_value_complete(llhttp_t* parser);
    static int on_headers_complete(llhttp_t* parser);
    static int on_body(llhttp_t* parser, const char* at, size_t length);
    static int on_message_complete(llhttp_t* parser);
    static const llhttp_settings_t& settings();
    int fail(int status, const char* reason);
    bool head_has_obs_fold(std::string_view head_bytes);

    llhttp_t parser_{};
    Kind kind_;
    MessageHead head_;
    HeadLimits limits_;
    std::string* body_ = nullptr;
    size_t trailer_lines_ = 0;  // trailer fields of a chunked body: checked, then dropped
    size_t trailer_line_size_ = 0;
    bool in_header_field_ = false;  // the current header line's name is still arriving
    bool head_ended_line_ = false;  // the head bytes fed so far end with LF
    bool head_complete_ = false;
    bool message_complete_ = false;
    bool no_body_ = false;
    int error_status_ = 400;
    std::string failure_;
};

}  // namespace passenger::http

#include "http/message_parser.hpp"

#include "common/thread_spares.hpp"
#include "http/response_head.hpp"

namespace passenger::http {
namespace {

MessageParser& self(llhttp_t* parser) {
    return *static_cast<MessageParser*>(parser->data);
}

// Room for a typical head's headers at once, instead of growing the list 1, 2, 4, 8 per message.
constexpr size_t initial_header_slots = 8;

// Header lists of parsers that hold none at the moment (gone, or waiting for a next message) are
// reused, so that an app connection's parser, made per request, allocates no list.
using SpareHeaderLists = ThreadSpares<HeaderList>;

}  // namespace

const std::string* MessageHead::find(std::string_view name) const {
    for (const auto& [key, value] : headers) {
        if (iequals(key, name)) return &value;
    }
    return nullptr;
}

const llhttp_settings_t& MessageParser::settings() {
    static const llhttp_settings_t instance = [] {
        llhttp_settings_t s;
        llhttp_settings_init(&s);
        s.on_method = &MessageParser::on_method;
        s.on_url = &MessageParser::on_url;
        s.on_header_field = &MessageParser::on_header_field;
        s.on_header_value = &MessageParser::on_header_value;
        s.on_header_field_complete = &MessageParser::on_header_field_complete;
        s.on_header_value_complete = &MessageParser::on_header_value_complete;
        s.on_headers_complete = &MessageParser::on_headers_complete;
        s.on_body = &MessageParser::on_body;
        s.on_message_complete = &MessageParser::on_message_complete;
        return s;
    }();
    return instance;
}

MessageParser::MessageParser(Kind kind) : kind_(kind) {
    llhttp_init(&parser_, kind == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
    parser_.data = this;
}

void MessageParser::reset() {
    // The next message on the connection reuses the header list's storage.
    HeaderList headers = std::move(head_.headers);
    headers.clear();
    head_ = MessageHead{};
    head_.headers = std::move(headers);
    body_ = nullptr;
    trailer_lines_ = 0;
    trailer_line_size_ = 0;
    in_header_field_ = false;
    head_ended_line_ = false;
    head_complete_ = false;
    message_complete_ = false;
    no_body_ = false;
    error_status_ = 400;
    failure_.clear();
    llhttp_init(&parser_, kind_ == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
    parser_.data = this;
}

MessageParser::~MessageParser() {
    SpareHeaderLists::give_back(head_.headers);
}

void MessageParser::release_storage() {
    reset();
    SpareHeaderLists::give_back(head_.headers);
    std::string().swap(failure_);
}

// llhttp (8.1) still accepts obs-fold, a header line continued on the next line after
// whitespace; RFC 9112 5.2 lets a server reject it, and a proxy must not pass it on. In a head,
// a line can only start with whitespace if it is such a continuation.
bool MessageParser::head_has_obs_fold(std::string_view head_bytes) {
    if (head_bytes.empty()) return false;
    bool fold = head_ended_line_ && (head_bytes.front() == ' ' || head_bytes.front() == '\t');
    for (size_t lf = head_bytes.find('\n'); !fold && lf != std::string_view::npos;
         lf = head_bytes.find('\n', lf + 1)) {
        fold =
            lf + 1 < head_bytes.size() && (head_bytes[lf + 1] == ' ' || head_bytes[lf + 1] == '\t');
    }
    head_ended_line_ = head_bytes.back() == '\n';
    return fold;
}

MessageParser::Progress MessageParser::feed(std::string_view data, std::string* body) {
    body_ = body;
    if (message_complete_) return {0, Event::message_complete};
    const bool in_head = !head_complete_ && kind_ == Kind::request;
    // Never a null pointer, even for no bytes: llhttp takes a null start as "no span open" and
    // would lose a body or header span that continues in the next buffer.
    static constexpr char no_bytes[1] = {};
    const char* begin = data.data() != nullptr ? data.data() : no_bytes;
    data = std::string_view(begin, data.size());
    llhttp_errno_t error = llhttp_execute(&parser_, begin, data.size());
    Progress progress;
    switch (error) {
        case HPE_OK:
            progress.consumed = data.size();
            progress.event = Event::need_more;
            break;
        case HPE_PAUSED:
        case HPE_PAUSED_UPGRADE:
            progress.consumed = static_cast<size_t>(llhttp_get_error_pos(&parser_) - data.data());
            progress.event = message_complete_ ? Event::message_complete : Event::head_complete;
            llhttp_resume(&parser_);
            break;
        default:
            progress.consumed = 0;
            progress.event = Event::error;
            if (failure_.empty()) {
                failure_ = llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_)
                                                             : llhttp_errno_name(error);
            }
            break;
    }
    if (in_head && progress.event != Event::error &&
        head_has_obs_fold(data.substr(0, progress.consumed))) {
        fail(400, "obsolete line folding in a header field");
        progress = {0, Event::error};
    }
    return progress;
}

MessageParser::Event MessageParser::finish() {
    if (message_complete_) return Event::message_complete;
    llhttp_errno_t error = llhttp_finish(&parser_);
    // on_message_complete pauses, so a completed close-delimited body reports HPE_PAUSED.
    if ((error == HPE_OK || error == HPE_PAUSED) && message_complete_)
        return Event::message_complete;
    failure_ = error == HPE_OK ? "connection closed before the message was complete"
                               : llhttp_errno_name(error);
    return Event::error;
}

bool MessageParser::body_until_eof() const {
    return kind_ == Kind::response && head_complete_ && !message_complete_ &&
           llhttp_message_needs_eof(&parser_);
}

std::string MessageParser::error_reason() const {
    return failure_;
}

int MessageParser::on_method(llhttp_t* parser, const char* at, size_t length) {
    self(parser).head_.method.append(at, length);
    return 0;
}

int MessageParser::fail(int status, const char* reason) {
    error_status_ = status;
    failure_ = reason;
    return -1;
}

int MessageParser::on_url(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    me.head_.target.append(at, length);
    if (me.head_.target.size() > me.limits_.max_target)
        return me.fail(414, "request target too long");
    return 0;
}

// Header lines are counted and measured as they arrive, so no limit is ever exceeded in memory.
// Trailer fields (after a chunked body) are held to the same limits but never stored: they must
// not turn into headers of the message.
int MessageParser::on_header_field(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    const bool new_line = !me.in_header_field_;
    me.in_header_field_ = true;
    if (me.head_complete_) {
        if (new_line) {
            ++me.trailer_lines_;
            me.trailer_line_size_ = 0;
        }
        me.trailer_line_size_ += length;
        if (me.trailer_lines_ > me.limits_.max_header_count)
            return me.fail(431, "too many trailer fields");
        if (me.trailer_line_size_ > me.limits_.max_header_line)
            return me.fail(431, "trailer field too large");
        return 0;
    }
    HeaderList& headers = me.head_.headers;
    if (new_line) {
        if (headers.size() >= me.limits_.max_header_count)
            return me.fail(431, "too many header fields");
        // Room for a typical head at once (also after release_storage()).
        if (headers.capacity() == 0) {
            headers = SpareHeaderLists::take();
            headers.reserve(initial_header_slots);
        }
        headers.emplace_back();
    }
    headers.back().first.append(at, length);
    if (headers.back().first.size() > me.limits_.max_header_line)
        return me.fail(431, "header field too large");
    return 0;
}

int MessageParser::on_header_field_complete(llhttp_t* parser) {
    MessageParser& me = self(parser);
    me.in_header_field_ = false;
    return 0;
}

int MessageParser::on_header_value(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    if (me.head_complete_) {
        me.trailer_line_size_ += length;
        if (me.trailer_line_size_ > me.limits_.max_header_line)
            return me.fail(431, "trailer field too large");
        return 0;
    }
    auto& [name, value] = me.head_.headers.back();
    value.append(at, length);
    if (name.size() + value.size() > me.limits_.max_header_line)
        return me.fail(431, "header field too large");
    return 0;
}

int MessageParser::on_header_value_complete(llhttp_t* parser) {
    MessageParser& me = self(parser);
    if (me.head_complete_ || me.head_.headers.empty()) return 0;
    // llhttp drops leading whitespace but keeps trailing whitespace, which is not part of the
    // value.
    std::string& value = me.head_.headers.back().second;
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    return 0;
}

int MessageParser::on_headers_complete(llhttp_t* parser) {
    MessageParser& me = self(parser);
    MessageHead& head = me.head_;
    head.http_major = parser->http_major;
    head.http_minor = parser->http_minor;
    head.status = parser->status_code;
    head.keep_alive = llhttp_should_keep_alive(parser) != 0;
    head.upgrade = parser->upgrade != 0;
    head.chunked = (parser->flags & F_CHUNKED) != 0;
    if (parser->flags & F_CONTENT_LENGTH) head.content_length = parser->content_length;
    me.head_complete_ = true;
    // A response to HEAD has no body: llhttp then completes the message at once, which pauses.
    if (me.no_body_) return 1;
    return HPE_PAUSED;
}

int MessageParser::on_body(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    if (me.body_ == nullptr) return -1;  // caller bug: body bytes with nowhere to go
    me.body_->append(at, length);
    return 0;
}

int MessageParser::on_message_complete(llhttp_t* parser) {
    self(parser).message_complete_ = true;
    return HPE_PAUSED;
}

}  // namespace passenger::http

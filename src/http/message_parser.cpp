#include "http/message_parser.hpp"

#include "http/response_head.hpp"

namespace passenger::http {
namespace {

MessageParser& self(llhttp_t* parser) {
    return *static_cast<MessageParser*>(parser->data);
}

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
    head_ = MessageHead{};
    body_ = nullptr;
    in_header_value_ = false;
    head_complete_ = false;
    message_complete_ = false;
    no_body_ = false;
    failure_.clear();
    llhttp_init(&parser_, kind_ == Kind::request ? HTTP_REQUEST : HTTP_RESPONSE, &settings());
    parser_.data = this;
}

MessageParser::Progress MessageParser::feed(std::string_view data, std::string* body) {
    body_ = body;
    if (message_complete_) return {0, Event::message_complete};
    llhttp_errno_t error = llhttp_execute(&parser_, data.data(), data.size());
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
            failure_ = llhttp_get_error_reason(&parser_) ? llhttp_get_error_reason(&parser_)
                                                         : llhttp_errno_name(error);
            break;
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

int MessageParser::on_url(llhttp_t* parser, const char* at, size_t length) {
    self(parser).head_.target.append(at, length);
    return 0;
}

int MessageParser::on_header_field(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    if (me.in_header_value_ || me.head_.headers.empty()) {
        me.head_.headers.emplace_back();
        me.in_header_value_ = false;
    }
    me.head_.headers.back().first.append(at, length);
    return 0;
}

int MessageParser::on_header_value(llhttp_t* parser, const char* at, size_t length) {
    MessageParser& me = self(parser);
    me.in_header_value_ = true;
    me.head_.headers.back().second.append(at, length);
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

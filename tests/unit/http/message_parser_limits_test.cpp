// The parser's own checks on client heads: limits (414/431), obs-fold, trailers, whitespace.
#include "http/message_parser.hpp"

#include <gtest/gtest.h>

namespace passenger::http {
namespace {

using Event = MessageParser::Event;

struct Parsed {
    Event event;
    int status;
    std::string reason;
};

Parsed parse(std::string_view data, const HeadLimits& limits = {}) {
    MessageParser parser(MessageParser::Kind::request);
    parser.set_limits(limits);
    std::string body;
    auto progress = parser.feed(data, &body);
    return {progress.event, parser.error_status(), parser.error_reason()};
}

TEST(MessageParserLimits, TargetLongerThanLimitGets414) {
    HeadLimits limits;
    limits.max_target = 10;
    EXPECT_EQ(parse("GET /123456789 HTTP/1.1\r\nHost: a\r\n\r\n", limits).event,
              Event::head_complete);
    Parsed parsed = parse("GET /1234567890 HTTP/1.1\r\nHost: a\r\n\r\n", limits);
    EXPECT_EQ(parsed.event, Event::error);
    EXPECT_EQ(parsed.status, 414);
}

TEST(MessageParserLimits, HeaderLineLongerThanLimitGets431) {
    HeadLimits limits;
    limits.max_header_line = 20;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nX-Name: 1234567890abcd\r\n\r\n", limits).event,
              Event::head_complete);
    Parsed parsed = parse("GET / HTTP/1.1\r\nX-Name: 1234567890abcde\r\n\r\n", limits);
    EXPECT_EQ(parsed.event, Event::error);
    EXPECT_EQ(parsed.status, 431);
    Parsed long_name = parse("GET / HTTP/1.1\r\nX-A-Very-Long-Header-Name: 1\r\n\r\n", limits);
    EXPECT_EQ(long_name.status, 431);
}

TEST(MessageParserLimits, LimitHoldsWhenTheLineArrivesInPieces) {
    HeadLimits limits;
    limits.max_header_line = 20;
    MessageParser parser(MessageParser::Kind::request);
    parser.set_limits(limits);
    std::string body;
    EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nX-Name: 12345", &body).event, Event::need_more);
    EXPECT_EQ(parser.feed("67890", &body).event, Event::need_more);
    EXPECT_EQ(parser.feed("abcdef", &body).event, Event::error);
    EXPECT_EQ(parser.error_status(), 431);
}

TEST(MessageParserLimits, TooManyHeadersGet431) {
    HeadLimits limits;
    limits.max_header_count = 3;
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n", limits).event,
              Event::head_complete);
    Parsed parsed = parse("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n", limits);
    EXPECT_EQ(parsed.event, Event::error);
    EXPECT_EQ(parsed.status, 431);
}

TEST(MessageParserLimits, ParseErrorsAre400) {
    Parsed parsed = parse("GET / HTTP/1.1\r\nHo(st: a\r\n\r\n");
    EXPECT_EQ(parsed.event, Event::error);
    EXPECT_EQ(parsed.status, 400);
}

TEST(MessageParserStrictness, RejectsObsFold) {
    Parsed parsed = parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\r\n b\r\n\r\n");
    EXPECT_EQ(parsed.event, Event::error);
    EXPECT_EQ(parsed.status, 400);
    EXPECT_NE(parsed.reason.find("folding"), std::string::npos);
}

TEST(MessageParserStrictness, RejectsObsFoldSplitAcrossReads) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nX: a\r\n", &body).event, Event::need_more);
    EXPECT_EQ(parser.feed("\tb\r\n\r\n", &body).event, Event::error);
}

TEST(MessageParserStrictness, ValueSplitAcrossReadsIsNoFold) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    EXPECT_EQ(parser.feed("GET / HTTP/1.1\r\nX: a", &body).event, Event::need_more);
    EXPECT_EQ(parser.feed(" b\r\n\r\n", &body).event, Event::head_complete);
    EXPECT_EQ(*parser.head().find("x"), "a b");
}

TEST(MessageParserStrictness, RejectsBareLfCrAndNul) {
    EXPECT_EQ(parse("GET / HTTP/1.1\nHost: a\n\n").event, Event::error);
    EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n").event, Event::error);
    EXPECT_EQ(parse(std::string_view("GET / HTTP/1.1\r\nHost: a\0b\r\n\r\n", 31)).event,
              Event::error);
}

TEST(MessageParserStrictness, TrimsTrailingWhitespaceOfValues) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    parser.feed("GET / HTTP/1.1\r\nHost: a \t \r\nX:\r\nY: 1\r\n\r\n", &body);
    ASSERT_TRUE(parser.head_complete());
    EXPECT_EQ(*parser.head().find("host"), "a");
    ASSERT_NE(parser.head().find("x"), nullptr);
    EXPECT_EQ(*parser.head().find("x"), "");
    EXPECT_EQ(*parser.head().find("y"), "1");
    EXPECT_EQ(parser.head().headers.size(), 3u);
}

TEST(MessageParserStrictness, TrailersNeverBecomeHeaders) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    std::string data =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\nContent-Length: 99\r\nX-Injected: 1\r\n\r\n";
    auto head = parser.feed(data, &body);
    ASSERT_EQ(head.event, Event::head_complete);
    EXPECT_EQ(parser.feed(std::string_view(data).substr(head.consumed), &body).event,
              Event::message_complete);
    EXPECT_EQ(body, "abc");
    EXPECT_EQ(parser.head().find("x-injected"), nullptr);
    EXPECT_EQ(parser.head().find("content-length"), nullptr);
    EXPECT_EQ(parser.head().headers.size(), 2u);
}

TEST(MessageParserStrictness, TrailersAreLimited) {
    HeadLimits limits;
    limits.max_header_count = 2;
    MessageParser parser(MessageParser::Kind::request);
    parser.set_limits(limits);
    std::string body;
    std::string data =
        "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
        "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    auto head = parser.feed(data, &body);
    ASSERT_EQ(head.event, Event::head_complete);
    EXPECT_EQ(parser.feed(std::string_view(data).substr(head.consumed), &body).event, Event::error);
    EXPECT_EQ(parser.error_status(), 431);
}

TEST(MessageParserStrictness, ResetClearsTheErrorStatus) {
    HeadLimits limits;
    limits.max_target = 4;
    MessageParser parser(MessageParser::Kind::request);
    parser.set_limits(limits);
    std::string body;
    EXPECT_EQ(parser.feed("GET /12345 HTTP/1.1\r\n\r\n", &body).event, Event::error);
    EXPECT_EQ(parser.error_status(), 414);
    parser.reset();
    EXPECT_EQ(parser.error_status(), 400);
    EXPECT_EQ(parser.feed("GET /1 HTTP/1.1\r\n\r\n", &body).event, Event::head_complete);
}

TEST(MessageParserFeeding, AnEmptyViewWithoutDataKeepsABodySpanOpen) {
    // A reader with nothing buffered may pass std::string_view() (a null pointer): llhttp must
    // still see the body continue in the next buffer.
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    std::string data = "POST / HTTP/1.1\r\nContent-Length: 6\r\n\r\nabc";
    auto head = parser.feed(data, &body);
    ASSERT_EQ(head.event, Event::head_complete);
    EXPECT_EQ(parser.feed(std::string_view(data).substr(head.consumed), &body).event,
              Event::need_more);
    EXPECT_EQ(parser.feed(std::string_view(), &body).event, Event::need_more);
    EXPECT_EQ(parser.feed("def", &body).event, Event::message_complete);
    EXPECT_EQ(body, "abcdef");
}

}  // namespace
}  // namespace passenger::http

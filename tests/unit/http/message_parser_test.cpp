#include "http/message_parser.hpp"

#include <gtest/gtest.h>

namespace passenger::http {
namespace {

using Event = MessageParser::Event;

TEST(MessageParser, StopsAfterHeadThenCompletesBodylessRequest) {
    MessageParser parser(MessageParser::Kind::request);
    std::string data = "GET /a?b=1 HTTP/1.1\r\nHost: x\r\nX-Long: a\r\n\r\nGET /next HTTP/1.1\r\n";
    std::string body;
    auto progress = parser.feed(data, &body);
    EXPECT_EQ(progress.event, Event::head_complete);
    EXPECT_EQ(parser.head().method, "GET");
    EXPECT_EQ(parser.head().target, "/a?b=1");
    EXPECT_TRUE(parser.head().keep_alive);
    ASSERT_NE(parser.head().find("host"), nullptr);
    EXPECT_EQ(*parser.head().find("HOST"), "x");
    std::string_view rest = std::string_view(data).substr(progress.consumed);
    auto completion = parser.feed(rest.substr(0, 0), &body);
    EXPECT_EQ(completion.event, Event::message_complete);
    EXPECT_TRUE(body.empty());
    parser.reset();
    auto next = parser.feed(rest, &body);
    EXPECT_EQ(next.event, Event::need_more);
    EXPECT_EQ(parser.head().target, "/next");
}

TEST(MessageParser, ReleasedStorageIsGoneAndTheNextMessageParses) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    std::string head = "GET /first HTTP/1.1\r\nHost: x\r\nUser-Agent: a long enough value\r\n\r\n";
    EXPECT_EQ(parser.feed(head, &body).event, Event::head_complete);
    EXPECT_EQ(parser.head().headers.size(), 2u);
    parser.reset();
    EXPECT_GT(parser.head().headers.capacity(), 0u);  // kept for the next message
    parser.release_storage();
    EXPECT_EQ(parser.head().headers.capacity(), 0u);  // an idle connection holds none
    EXPECT_EQ(parser.feed("GET /second HTTP/1.1\r\nHost: y\r\n\r\n", &body).event,
              Event::head_complete);
    EXPECT_EQ(parser.head().target, "/second");
    EXPECT_EQ(*parser.head().find("host"), "y");
    EXPECT_GE(parser.head().headers.capacity(), 8u);  // room for a typical head at once
}

TEST(MessageParser, HeadersSplitAcrossReads) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    EXPECT_EQ(parser.feed("POST / HTTP/1.1\r\nCont", &body).event, Event::need_more);
    EXPECT_EQ(parser.feed("ent-Length: 5\r\nX: ab", &body).event, Event::need_more);
    auto progress = parser.feed("c\r\n\r\nhello", &body);
    EXPECT_EQ(progress.event, Event::head_complete);
    EXPECT_EQ(*parser.head().find("x"), "abc");
    EXPECT_EQ(parser.head().content_length, 5u);
    auto rest = std::string_view("c\r\n\r\nhello").substr(progress.consumed);
    EXPECT_EQ(parser.feed(rest, &body).event, Event::message_complete);
    EXPECT_EQ(body, "hello");
}

TEST(MessageParser, DecodesChunkedBody) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    std::string data =
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    auto head = parser.feed(data, &body);
    ASSERT_EQ(head.event, Event::head_complete);
    EXPECT_TRUE(parser.head().chunked);
    EXPECT_EQ(parser.feed(std::string_view(data).substr(head.consumed), &body).event,
              Event::message_complete);
    EXPECT_EQ(body, "abcde");
}

TEST(MessageParser, RejectsContentLengthWithTransferEncoding) {
    MessageParser parser(MessageParser::Kind::request);
    std::string body;
    auto progress = parser.feed(
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", &body);
    EXPECT_EQ(progress.event, Event::error);
    EXPECT_FALSE(parser.error_reason().empty());
}

TEST(MessageParser, ResponseToHeadHasNoBody) {
    MessageParser parser(MessageParser::Kind::response);
    parser.expect_no_body(true);
    std::string body;
    auto progress = parser.feed("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", &body);
    EXPECT_EQ(progress.event, Event::message_complete);
    EXPECT_TRUE(parser.head_complete());
    EXPECT_EQ(parser.head().status, 200);
}

TEST(MessageParser, CloseDelimitedResponseEndsAtEof) {
    MessageParser parser(MessageParser::Kind::response);
    std::string body;
    std::string data = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nabc";
    auto head = parser.feed(data, &body);
    ASSERT_EQ(head.event, Event::head_complete);
    EXPECT_TRUE(parser.body_until_eof());
    EXPECT_EQ(parser.feed(std::string_view(data).substr(head.consumed), &body).event,
              Event::need_more);
    EXPECT_EQ(parser.finish(), Event::message_complete);
    EXPECT_EQ(body, "abc");
}

}  // namespace
}  // namespace passenger::http

// The Apache module's chunked-body parser (src/integrations/apache2/passenger_chunked.c): the
// kept-alive channel depends on it finding the exact end of each response.
#include "../../../src/integrations/apache2/passenger_chunked.h"

#include <gtest/gtest.h>

#include <string>

namespace {

struct Parsed {
    int result = PASSENGER_CHUNKED_AGAIN;  // the last result
    std::string data;
    size_t consumed = 0;  // bytes of the input taken when the body ended (or all of them)
};

// Feeds `input` in pieces of `step` bytes, as reads from a socket would deliver it.
Parsed parse(const std::string& input, size_t step = 1000000) {
    passenger_chunked_t parser{};
    Parsed parsed;
    for (size_t offset = 0; offset < input.size(); offset += step) {
        const char* pos = input.data() + offset;
        const char* end = input.data() + std::min(input.size(), offset + step);
        while (pos < end) {
            const char* data = nullptr;
            apr_size_t length = 0;
            parsed.result = passenger_chunked_parse(&parser, &pos, end, &data, &length);
            if (parsed.result == PASSENGER_CHUNKED_DATA) parsed.data.append(data, length);
            if (parsed.result == PASSENGER_CHUNKED_ERROR) return parsed;
            if (parsed.result == PASSENGER_CHUNKED_DONE) {
                parsed.consumed = pos - input.data();
                return parsed;
            }
        }
    }
    parsed.consumed = input.size();
    return parsed;
}

TEST(ApacheChunked, ReadsChunksToTheExactEnd) {
    const std::string body = "5\r\nhello\r\n1a\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\n\r\n";
    for (size_t step : {1, 2, 3, 7, 1000}) {
        Parsed parsed = parse(body + "NEXT", step);
        EXPECT_EQ(parsed.result, PASSENGER_CHUNKED_DONE) << step;
        EXPECT_EQ(parsed.data, "helloabcdefghijklmnopqrstuvwxyz") << step;
        EXPECT_EQ(parsed.consumed, body.size()) << step;
    }
}

TEST(ApacheChunked, IgnoresExtensionsAndSkipsTrailers) {
    Parsed parsed = parse("3;name=\"v\"\r\nabc\r\n0 ;x\r\nX-Trailer: 1\r\nY: 2\r\n\r\n");
    EXPECT_EQ(parsed.result, PASSENGER_CHUNKED_DONE);
    EXPECT_EQ(parsed.data, "abc");
}

TEST(ApacheChunked, WaitsForMore) {
    EXPECT_EQ(parse("5\r\nhel").result, PASSENGER_CHUNKED_DATA);
    EXPECT_EQ(parse("5\r\nhello\r\n").result, PASSENGER_CHUNKED_AGAIN);
    EXPECT_EQ(parse("0\r\n").result, PASSENGER_CHUNKED_AGAIN);
}

TEST(ApacheChunked, RejectsMalformedBodies) {
    for (const char* bad : {
             "\r\n",                      // no size
             "x\r\n",                     // not hex
             "-1\r\n",                    // signed
             "5\nhello\r\n0\r\n\r\n",     // bare LF after the size
             "5\r\nhelloX\r\n0\r\n\r\n",  // data longer than its size
             "5\r\nhello\n0\r\n\r\n",     // bare LF after the data
             "0\r\nbroken\n\r\n",         // bare LF in a trailer
             "0\r\n\rX",                  // CR without LF at the end
             "8000000000000000\r\n",      // 2^63: more than an offset holds
             "10000000000000000\r\n",     // 2^64
             "00000000000000000000000000000001000000000000000000\r\n",
         }) {
        EXPECT_EQ(parse(bad).result, PASSENGER_CHUNKED_ERROR) << bad;
    }
    // The largest size an offset holds is still a size (its data would follow).
    EXPECT_EQ(parse("7fffffffffffffff\r\n").result, PASSENGER_CHUNKED_AGAIN);
}

TEST(ApacheChunked, BoundsWhatItSkips) {
    EXPECT_EQ(parse("1;" + std::string(5000, 'x') + "\r\n").result, PASSENGER_CHUNKED_ERROR);
    EXPECT_EQ(parse("0\r\nX: " + std::string(70000, 'x') + "\r\n\r\n").result,
              PASSENGER_CHUNKED_ERROR);
}

TEST(ApacheChunked, ReadsNothingPastTheEnd) {
    passenger_chunked_t parser{};
    const std::string body = "0\r\n\r\n";
    const char* pos = body.data();
    const char* data = nullptr;
    apr_size_t length = 0;
    EXPECT_EQ(passenger_chunked_parse(&parser, &pos, body.data() + body.size(), &data, &length),
              PASSENGER_CHUNKED_DONE);
    const std::string more = "X";
    pos = more.data();
    EXPECT_EQ(passenger_chunked_parse(&parser, &pos, more.data() + 1, &data, &length),
              PASSENGER_CHUNKED_ERROR);
}

}  // namespace

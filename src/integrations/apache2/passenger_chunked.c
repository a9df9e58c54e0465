/*
 * A strict parser of chunked response bodies (RFC 9112 7.1) for the kept-alive channel: the
 * module must find the exact end of each response, or the next response on the connection would
 * be read from the wrong place. Sizes are hex with an overflow check, extensions are skipped,
 * trailer fields are skipped, every line ends in CRLF; anything else is an error, and the caller
 * then closes the connection.
 */
#include "passenger_chunked.h"

/* Bounds on what is skipped: a chunk line's extensions, all trailer fields together. */
#define EXTENSION_LIMIT 4096
#define TRAILER_LIMIT (64 * 1024)

enum {
    IN_SIZE_START = 0, /* a chunk line: at least one hex digit */
    IN_SIZE,
    IN_EXTENSION, /* after the size: skipped until CR */
    IN_SIZE_LF,
    IN_DATA,
    IN_DATA_CR,
    IN_DATA_LF,
    IN_TRAILER_START, /* after the last chunk: a field line, or the final CRLF */
    IN_TRAILER_LINE,
    IN_TRAILER_LF,
    IN_LAST_LF,
    IN_DONE
};

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

int passenger_chunked_parse(passenger_chunked_t* parser, const char** pos, const char* end,
                            const char** data, apr_size_t* data_length) {
    const char* p = *pos;
    int result = PASSENGER_CHUNKED_AGAIN;

    while (p < end && result == PASSENGER_CHUNKED_AGAIN) {
        char c = *p;
        int digit;

        switch (parser->state) {
            case IN_SIZE_START:
            case IN_SIZE:
                digit = hex_value(c);
                if (digit >= 0) {
                    if (parser->size > (APR_INT64_MAX >> 4)) return PASSENGER_CHUNKED_ERROR;
                    parser->size = parser->size * 16 + digit;
                    parser->state = IN_SIZE;
                } else if (parser->state == IN_SIZE && (c == ';' || c == ' ' || c == '\t')) {
                    parser->state = IN_EXTENSION;
                    parser->skipped = 0;
                } else if (parser->state == IN_SIZE && c == '\r') {
                    parser->state = IN_SIZE_LF;
                } else {
                    return PASSENGER_CHUNKED_ERROR;
                }
                p++;
                break;
            case IN_EXTENSION:
                if (c == '\r') {
                    parser->state = IN_SIZE_LF;
                } else if (c == '\n' || ++parser->skipped > EXTENSION_LIMIT) {
                    return PASSENGER_CHUNKED_ERROR;
                }
                p++;
                break;
            case IN_SIZE_LF:
                if (c != '\n') return PASSENGER_CHUNKED_ERROR;
                parser->state = parser->size > 0 ? IN_DATA : IN_TRAILER_START;
                parser->skipped = 0;
                p++;
                break;
            case IN_DATA: {
                apr_size_t available = end - p;
                apr_size_t piece =
                    (apr_uint64_t)available < parser->size ? available : (apr_size_t)parser->size;
                *data = p;
                *data_length = piece;
                p += piece;
                parser->size -= piece;
                if (parser->size == 0) parser->state = IN_DATA_CR;
                result = PASSENGER_CHUNKED_DATA;
                break;
            }
            case IN_DATA_CR:
            case IN_TRAILER_LF:
                if (c != (parser->state == IN_DATA_CR ? '\r' : '\n'))
                    return PASSENGER_CHUNKED_ERROR;
                parser->state = parser->state == IN_DATA_CR ? IN_DATA_LF : IN_TRAILER_START;
                p++;
                break;
            case IN_DATA_LF:
                if (c != '\n') return PASSENGER_CHUNKED_ERROR;
                parser->state = IN_SIZE_START;
                p++;
                break;
            case IN_TRAILER_START:
            case IN_TRAILER_LINE:
                if (++parser->skipped > TRAILER_LIMIT || c == '\n') return PASSENGER_CHUNKED_ERROR;
                if (c == '\r') {
                    parser->state = parser->state == IN_TRAILER_START ? IN_LAST_LF : IN_TRAILER_LF;
                } else {
                    parser->state = IN_TRAILER_LINE;
                }
                p++;
                break;
            case IN_LAST_LF:
                if (c != '\n') return PASSENGER_CHUNKED_ERROR;
                parser->state = IN_DONE;
                p++;
                result = PASSENGER_CHUNKED_DONE;
                break;
            default: /* IN_DONE: nothing may be read past the end */
                return PASSENGER_CHUNKED_ERROR;
        }
    }
    *pos = p;
    return result;
}

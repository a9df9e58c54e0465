/*
 * A strict parser of chunked bodies (passenger_chunked.c): plain C on APR's types only, so that
 * the unit tests can run it without Apache.
 */
#ifndef PASSENGER_CHUNKED_H
#define PASSENGER_CHUNKED_H

#include <apr.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    int state;
    apr_uint64_t size;  /* of the chunk being read, or its data left */
    apr_size_t skipped; /* extension or trailer bytes skipped */
} passenger_chunked_t;

enum {
    PASSENGER_CHUNKED_AGAIN, /* all of the input taken: more to come */
    PASSENGER_CHUNKED_DATA,  /* `*data`, `*data_length`: chunk data (more may follow) */
    PASSENGER_CHUNKED_DONE,  /* the last chunk and trailer ended at the new `*pos` */
    PASSENGER_CHUNKED_ERROR
};

/* Parses from `*pos` to `end`, advancing `*pos`; a zeroed parser starts a body. */
int passenger_chunked_parse(passenger_chunked_t* parser, const char** pos, const char* end,
                            const char** data, apr_size_t* data_length);

#ifdef __cplusplus
}
#endif

#endif

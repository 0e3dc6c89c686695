/*
 * rl_wire: header names in wire order, as the request's lines pass through a connection
 * input filter. Apache's headers_in table merges repeated headers into the first one, which
 * would change JA4H (it counts every header line); this records every name as sent.
 *
 * Feed it the bytes of line-mode reads. The first non-empty line is the request line; the
 * following lines are header fields until the empty line, after which it ignores input
 * (bodies, chunk sizes, trailers) until rl_wire_reset for the next request.
 */
#ifndef RL_WIRE_H
#define RL_WIRE_H

#include <stddef.h>

#define RL_WIRE_MAX_NAMES 128  /* above Apache's default LimitRequestFields (100) */
#define RL_WIRE_MAX_NAME 128   /* longer names are cut; such requests are hostile anyway */

enum { RL_WIRE_REQUEST_LINE = 0, RL_WIRE_HEADERS = 1, RL_WIRE_DONE = 2 };

typedef struct rl_wire {
    int state;
    size_t n_names;
    int overflow;                       /* more names than RL_WIRE_MAX_NAMES */
    char names[RL_WIRE_MAX_NAMES][RL_WIRE_MAX_NAME + 1];
    char line[RL_WIRE_MAX_NAME + 2];    /* start of the current line */
    size_t line_len;                    /* bytes of the current line seen so far */
} rl_wire;

/* Prepares for a new request. */
void rl_wire_reset(rl_wire *w);
/* Consumes bytes read in line mode. */
void rl_wire_feed(rl_wire *w, const char *data, size_t n);

#endif

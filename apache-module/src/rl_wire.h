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

#define RL_WIRE_MAX_NAMES 128   /* above Apache's default LimitRequestFields (100) */
#define RL_WIRE_MAX_NAME 128    /* longer names are cut; such requests are hostile anyway */
#define RL_WIRE_NAME_BYTES 2048 /* all names of a request, NUL-separated (~2.5 KiB per conn) */

enum { RL_WIRE_REQUEST_LINE = 0, RL_WIRE_HEADERS = 1, RL_WIRE_DONE = 2 };

typedef struct rl_wire {
    int state;
    size_t n_names;
    int overflow;                       /* more names or bytes than fit: use Apache's table */
    size_t used;                        /* bytes of `names` in use */
    unsigned short offs[RL_WIRE_MAX_NAMES];
    char names[RL_WIRE_NAME_BYTES];
    char line[RL_WIRE_MAX_NAME + 2];    /* start of the current line */
    size_t line_len;                    /* bytes of the current line seen so far */
} rl_wire;

/* Prepares for a new request. */
void rl_wire_reset(rl_wire *w);
/* Consumes bytes read in line mode. */
void rl_wire_feed(rl_wire *w, const char *data, size_t n);
/*
 * Consumes one whole line of `n` bytes without its LF, when no piece of a line is pending
 * (line_len == 0): what one line-mode read usually returns, so the caller skips the search
 * for the LF. Same result as rl_wire_feed of the line and its LF.
 */
void rl_wire_line(rl_wire *w, const char *line, size_t n);
/* The i-th header name (i < n_names), NUL-terminated. */
const char *rl_wire_name(const rl_wire *w, size_t i);

#endif

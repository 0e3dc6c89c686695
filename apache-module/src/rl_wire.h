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
/* All names of a request as JSON array items (~2.5 KiB per connection with the offsets). */
#define RL_WIRE_JSON_BYTES 2048

enum { RL_WIRE_REQUEST_LINE = 0, RL_WIRE_HEADERS = 1, RL_WIRE_DONE = 2 };

typedef struct rl_wire {
    int state;
    size_t n_names;
    int overflow;                       /* more names or bytes than fit: use Apache's table */
    /*
     * `"Host","User-Agent",…`: every name in quotes, a comma between, as the items of a JSON
     * array. json_plain says whether that is valid JSON to copy into the line as it is: every
     * name is printable ASCII without '"' or '\\' (what HTTP's token syntax allows), so it is
     * its own JSON string. The bytes also key the JA4H memo, one compare for all names.
     */
    char json[RL_WIRE_JSON_BYTES];
    size_t json_len;
    int json_plain;
    unsigned short offs[RL_WIRE_MAX_NAMES]; /* where name i starts in json (past its quote) */
    unsigned char lens[RL_WIRE_MAX_NAMES];  /* and its bytes */
    size_t longest;                     /* bytes of the longest name */
    /* Fields named "cookie" in any letter case, and those named exactly "Cookie": JA4H reads
     * the first of the latter over HTTP/1 (see the module's ja4h_cookie). */
    unsigned cookies_any;
    unsigned cookies_exact;
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
/* The i-th header name (i < n_names): its first byte; *len gets its length (no NUL ends it). */
static inline const char *rl_wire_name(const rl_wire *w, size_t i, size_t *len) {
    *len = w->lens[i];
    return w->json + w->offs[i];
}

#endif

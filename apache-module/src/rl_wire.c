/* rl_wire: see rl_wire.h. */
#include "rl_wire.h"

#include <string.h>

#include "rl_ja4h.h"
#include "rl_json.h"

/* Runs once per header line: inlined into rl_wire_line whole, so that no call, and no local
 * whose address is taken (which would bring the stack protector), is left on that path. */
#if defined(__GNUC__) || defined(__clang__)
#define RL_WIRE_INLINE static inline __attribute__((always_inline))
#else
#define RL_WIRE_INLINE static inline
#endif

void rl_wire_reset(rl_wire *w) {
    w->state = RL_WIRE_REQUEST_LINE;
    w->n_names = 0;
    w->overflow = 0;
    w->line_len = 0;
    w->json_len = 0;
    w->json_plain = 1;
    w->longest = 0;
    w->cookies_any = 0;
    w->cookies_exact = 0;
}

/*
 * Where a field's name ends: at the first ':' or CR of the line's first `max` bytes. Clears
 * *plain if a byte of the name is not rl_json_plain_byte. With `dst`, also copies the line's
 * bytes there up to the name's end at least (whole 16-byte blocks, never past dst[max - 1]):
 * one pass scans, checks and copies.
 */
RL_WIRE_INLINE size_t scan_name(const char *line, size_t max, char *dst, int *plain) {
    size_t k = 0;
#if defined(__SSE2__)
    /* Names are short: usually the first 16 bytes of the line hold the ':'. */
    for (; k + 16 <= max; k += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(line + k));
        unsigned end = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));
        unsigned special = rl_json_special16(x);
        if (dst != NULL) _mm_storeu_si128((__m128i *)(void *)(dst + k), x);
        if (end != 0) {
            unsigned at = (unsigned)__builtin_ctz(end);
            if (special & ((1u << at) - 1)) *plain = 0;
            return k + at;
        }
        if (special) *plain = 0;
    }
#endif
    for (; k < max && line[k] != ':' && line[k] != '\r'; k++) {
        if (!rl_json_plain_byte((unsigned char)line[k])) *plain = 0;
        if (dst != NULL) dst[k] = line[k];
    }
    return k;
}

/* Records the name of the field line `line`, of which the first `max` bytes are at hand. */
RL_WIRE_INLINE void record_name(rl_wire *w, const char *line, size_t max) {
    size_t sep = w->n_names ? 1 : 0, n;
    char *dst = w->json + w->json_len + sep + 1;
    int plain = 1, cookie;
    if (w->n_names >= RL_WIRE_MAX_NAMES) {
        w->overflow = 1;
        return;
    }
    if (w->json_len + sep + max + 2 <= RL_WIRE_JSON_BYTES) {
        n = scan_name(line, max, dst, &plain); /* the usual case: room for the whole line */
    } else {
        n = scan_name(line, max, NULL, &plain);
        if (w->json_len + sep + n + 2 > RL_WIRE_JSON_BYTES) {
            w->overflow = 1;
            return;
        }
        memcpy(dst, line, n);
    }
    if (sep) dst[-2] = ',';
    dst[-1] = '"';
    dst[n] = '"';
    w->offs[w->n_names] = (unsigned short)(dst - w->json);
    w->lens[w->n_names++] = (unsigned char)n;
    w->json_len += sep + n + 2;
    if (!plain) w->json_plain = 0;
    if (n > w->longest) w->longest = n;
    cookie = rl_ja4h_cookie_field(line, n);
    if (cookie) w->cookies_any++;
    if (cookie == 2) w->cookies_exact++;
}

/* A complete line of `len` bytes (without its LF), of which the first `kept` are at `line`. */
RL_WIRE_INLINE void end_of_line(rl_wire *w, const char *line, size_t len, size_t kept) {
    int empty = len == 0 || (len == 1 && line[0] == '\r');
    if (w->state == RL_WIRE_REQUEST_LINE) {
        /* Apache skips blank lines before a request line; so do we. */
        if (!empty) w->state = RL_WIRE_HEADERS;
    } else if (w->state == RL_WIRE_HEADERS) {
        if (empty) {
            w->state = RL_WIRE_DONE;
        } else if (line[0] != ' ' && line[0] != '\t') {
            /* Not an obsolete folded continuation: a field; its name ends at ':'. */
            record_name(w, line, kept < RL_WIRE_MAX_NAME ? kept : RL_WIRE_MAX_NAME);
        }
    }
    w->line_len = 0;
}

void rl_wire_line(rl_wire *w, const char *line, size_t n) {
    if (w->state != RL_WIRE_DONE) end_of_line(w, line, n, n);
}

void rl_wire_feed(rl_wire *w, const char *data, size_t n) {
    const char *p = data, *end = data + n;
    while (p < end && w->state != RL_WIRE_DONE) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        if (nl != NULL && w->line_len == 0) {
            /* The usual case: a whole line in one piece (Apache reads line by line), read
             * in place. */
            end_of_line(w, p, len, len);
            p = nl + 1;
            continue;
        }
        /* A line in pieces: keep its start (where the name is); the rest is just counted. */
        if (w->line_len < sizeof(w->line)) {
            size_t room = sizeof(w->line) - w->line_len;
            memcpy(w->line + w->line_len, p, len < room ? len : room);
        }
        w->line_len += len;
        if (nl == NULL) break;
        end_of_line(w, w->line, w->line_len,
                    w->line_len < sizeof(w->line) ? w->line_len : sizeof(w->line));
        p = nl + 1;
    }
}


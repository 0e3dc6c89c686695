/* rl_wire: see rl_wire.h. */
#include "rl_wire.h"

#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

void rl_wire_reset(rl_wire *w) {
    w->state = RL_WIRE_REQUEST_LINE;
    w->n_names = 0;
    w->overflow = 0;
    w->used = 0;
    w->line_len = 0;
}

/* Where a field's name ends: at the first ':' or CR of the line's first `max` bytes. */
static size_t name_end(const char *line, size_t max) {
    size_t k = 0;
#if defined(__SSE2__)
    /* Names are short: usually the first 16 bytes of the line hold the ':'. */
    for (; k + 16 <= max; k += 16) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(line + k));
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8(':')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\r'))));
        if (m != 0) return k + (size_t)__builtin_ctz(m);
    }
#endif
    while (k < max && line[k] != ':' && line[k] != '\r') k++;
    return k;
}

/* A complete line of `len` bytes (without its LF), of which the first `kept` are at `line`. */
static void end_of_line(rl_wire *w, const char *line, size_t len, size_t kept) {
    int empty = len == 0 || (len == 1 && line[0] == '\r');
    if (w->state == RL_WIRE_REQUEST_LINE) {
        /* Apache skips blank lines before a request line; so do we. */
        if (!empty) w->state = RL_WIRE_HEADERS;
    } else if (w->state == RL_WIRE_HEADERS) {
        if (empty) {
            w->state = RL_WIRE_DONE;
        } else if (line[0] != ' ' && line[0] != '\t') {
            /* Not an obsolete folded continuation: a field; its name ends at ':'. */
            size_t n = name_end(line, kept < RL_WIRE_MAX_NAME ? kept : RL_WIRE_MAX_NAME);
            if (w->n_names < RL_WIRE_MAX_NAMES && w->used + n + 1 <= RL_WIRE_NAME_BYTES) {
                w->offs[w->n_names++] = (unsigned short)w->used;
                memcpy(w->names + w->used, line, n);
                w->names[w->used + n] = '\0';
                w->used += n + 1;
            } else {
                w->overflow = 1;
            }
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

const char *rl_wire_name(const rl_wire *w, size_t i) { return w->names + w->offs[i]; }

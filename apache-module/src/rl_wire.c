/* rl_wire: see rl_wire.h. */
#include "rl_wire.h"

#include <string.h>

void rl_wire_reset(rl_wire *w) {
    w->state = RL_WIRE_REQUEST_LINE;
    w->n_names = 0;
    w->overflow = 0;
    w->used = 0;
    w->line_len = 0;
}

/* A complete line (without its LF; `len` counts all of its bytes). */
static void end_of_line(rl_wire *w) {
    size_t len = w->line_len, kept = len < sizeof(w->line) ? len : sizeof(w->line);
    int empty = len == 0 || (len == 1 && w->line[0] == '\r');
    if (w->state == RL_WIRE_REQUEST_LINE) {
        /* Apache skips blank lines before a request line; so do we. */
        if (!empty) w->state = RL_WIRE_HEADERS;
    } else if (w->state == RL_WIRE_HEADERS) {
        if (empty) {
            w->state = RL_WIRE_DONE;
        } else if (w->line[0] != ' ' && w->line[0] != '\t') {
            /* Not an obsolete folded continuation: a field; its name ends at ':'. */
            size_t n = 0;
            while (n < kept && w->line[n] != ':' && w->line[n] != '\r') n++;
            if (n > RL_WIRE_MAX_NAME) n = RL_WIRE_MAX_NAME;
            if (w->n_names < RL_WIRE_MAX_NAMES && w->used + n + 1 <= RL_WIRE_NAME_BYTES) {
                w->offs[w->n_names++] = (unsigned short)w->used;
                memcpy(w->names + w->used, w->line, n);
                w->names[w->used + n] = '\0';
                w->used += n + 1;
            } else {
                w->overflow = 1;
            }
        }
    }
    w->line_len = 0;
}

void rl_wire_feed(rl_wire *w, const char *data, size_t n) {
    const char *p = data, *end = data + n;
    while (p < end && w->state != RL_WIRE_DONE) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        /* Only the start of a line matters (its name); the rest is just counted. */
        if (w->line_len < sizeof(w->line)) {
            size_t room = sizeof(w->line) - w->line_len;
            memcpy(w->line + w->line_len, p, len < room ? len : room);
        }
        w->line_len += len;
        if (nl == NULL) break;
        end_of_line(w);
        p = nl + 1;
    }
}

const char *rl_wire_name(const rl_wire *w, size_t i) { return w->names + w->offs[i]; }

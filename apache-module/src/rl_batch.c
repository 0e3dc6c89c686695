/* rl_batch: see rl_batch.h. */
#include "rl_batch.h"

#include <stdlib.h>
#include <string.h>

int rl_batch_init(rl_batch *b, size_t cap) {
    memset(b, 0, sizeof(*b));
    b->data = malloc(cap);
    if (b->data == NULL) return -1;
    b->cap = cap;
    return 0;
}

void rl_batch_free(rl_batch *b) {
    free(b->data);
    memset(b, 0, sizeof(*b));
}

char *rl_batch_tail(rl_batch *b) { return b->data ? b->data + b->len : NULL; }

size_t rl_batch_room(const rl_batch *b) { return b->data ? b->cap - b->len : 0; }

int rl_batch_commit(rl_batch *b, size_t len, unsigned long long now_us) {
    int first = b->len == 0;
    if (first) b->first_us = now_us;
    b->len += len;
    b->lines++;
    return first ? RL_BATCH_FIRST : RL_BATCH_ADDED;
}

int rl_batch_add(rl_batch *b, const char *line, size_t len, unsigned long long now_us) {
    char *tail = rl_batch_tail(b);
    if (tail == NULL || len > rl_batch_room(b)) {
        b->overflowed++;
        return RL_BATCH_FULL;
    }
    memcpy(tail, line, len);
    return rl_batch_commit(b, len, now_us);
}

void rl_batch_clear(rl_batch *b) {
    b->len = 0;
    b->lines = 0;
}

int rl_batch_due(const rl_batch *b, unsigned long long now_us, unsigned long long max_age_us,
                 size_t max_bytes) {
    if (b->len == 0) return 0;
    return b->len >= max_bytes || now_us >= b->first_us + max_age_us;
}

long long rl_batch_flush_in(const rl_batch *b, unsigned long long now_us,
                            unsigned long long after_us) {
    if (b->len == 0 && b->overflowed == 0) return -1;
    /* Refused lines only (len 0): report them now. */
    if (b->len == 0 || now_us < b->first_us || now_us >= b->first_us + after_us) return 0;
    return (long long)(b->first_us + after_us - now_us);
}

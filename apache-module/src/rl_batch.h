/*
 * rl_batch: lines waiting for the flusher thread. Request threads append a finished line
 * (a memcpy under the module's mutex); the flusher swaps the batch for an empty one and
 * sends it with one system call, so the reader is woken once per batch, not per request.
 * A full batch refuses lines (counted): memory stays bounded when the reader is slow.
 */
#ifndef RL_BATCH_H
#define RL_BATCH_H

#include <stddef.h>

typedef struct rl_batch {
    char *data;
    size_t len;
    size_t cap;
    unsigned long long lines;      /* lines in data */
    unsigned long long overflowed; /* lines refused because the batch was full */
} rl_batch;

enum { RL_BATCH_FULL = -1, RL_BATCH_ADDED = 0, RL_BATCH_FIRST = 1 };

/* Allocates `cap` bytes; returns 0, or -1 when out of memory. */
int rl_batch_init(rl_batch *b, size_t cap);
void rl_batch_free(rl_batch *b);
/* Appends one whole line: RL_BATCH_FIRST when the batch was empty (wake the flusher),
 * RL_BATCH_ADDED, or RL_BATCH_FULL (the line is refused and counted). */
int rl_batch_add(rl_batch *b, const char *line, size_t len);
/* Empties the batch (after it was sent). */
void rl_batch_clear(rl_batch *b);

#endif

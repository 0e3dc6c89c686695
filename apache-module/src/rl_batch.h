/*
 * rl_batch: lines waiting to be sent. Request threads write their line into it (under the
 * module's mutex); whoever finds the batch due (old or big enough) swaps it for the empty
 * spare and sends it with one system call, so the reader is woken once per batch, not per
 * request. A full batch refuses lines (counted): memory stays bounded when the reader is slow.
 */
#ifndef RL_BATCH_H
#define RL_BATCH_H

#include <stddef.h>

typedef struct rl_batch {
    char *data;
    size_t len;
    size_t cap;
    unsigned long long lines;      /* lines in data */
    unsigned long long first_us;   /* when the first line of the batch came */
    unsigned long long overflowed; /* lines refused because the batch was full */
} rl_batch;

enum { RL_BATCH_FULL = -1, RL_BATCH_ADDED = 0, RL_BATCH_FIRST = 1 };

/* Allocates `cap` bytes; returns 0, or -1 when out of memory. */
int rl_batch_init(rl_batch *b, size_t cap);
void rl_batch_free(rl_batch *b);
/* Appends one whole line: RL_BATCH_FIRST when the batch was empty (the flusher may sleep),
 * RL_BATCH_ADDED, or RL_BATCH_FULL (the line is refused and counted). */
int rl_batch_add(rl_batch *b, const char *line, size_t len, unsigned long long now_us);
/* Where the free room after the batch's lines starts (NULL without storage): a line may be
 * written there in place, up to rl_batch_room bytes, then counted with rl_batch_commit. */
char *rl_batch_tail(rl_batch *b);
/* Bytes of free room at rl_batch_tail (0 without storage). */
size_t rl_batch_room(const rl_batch *b);
/* Counts the `len` bytes written at rl_batch_tail (len <= its room) as one line:
 * RL_BATCH_FIRST or RL_BATCH_ADDED. */
int rl_batch_commit(rl_batch *b, size_t len, unsigned long long now_us);
/* 1 when the batch should be sent now: its first line is `max_age_us` old, or it holds
 * `max_bytes` or more. An empty batch is never due. */
int rl_batch_due(const rl_batch *b, unsigned long long now_us, unsigned long long max_age_us,
                 size_t max_bytes);
/* For a thread that sends what requests leave behind: -1 when the batch is empty (nothing to
 * wait for), 0 when its first line is `after_us` old (send it now), else the microseconds
 * until then. The times are wall-clock (a request's start time is its line's): a first line
 * stamped after `now_us` means the clock was set back, and the batch is sent at once rather
 * than held until the clock catches up. */
long long rl_batch_flush_in(const rl_batch *b, unsigned long long now_us,
                            unsigned long long after_us);
/* Empties the batch (after it was sent). */
void rl_batch_clear(rl_batch *b);

#endif

/*
 * rl_sender: delivers JSON lines to a UNIX stream socket without ever blocking the caller.
 *
 * Every send uses MSG_DONTWAIT|MSG_NOSIGNAL. When the reader is slow (socket buffer full) the
 * line is dropped and counted; when it is gone (refused, EPIPE) the socket is closed and
 * reconnected with exponential backoff, also without blocking (non-blocking connect). A line
 * the kernel accepted only in part is kept and finished before any other line, so the reader
 * never sees two lines interleaved; it is dropped (and counted) if the connection dies.
 *
 * Takes one or more whole lines per call (the module sends batches); counters are in lines.
 * Not thread-safe: in the module only the thread holding the batch being sent uses it.
 */
#ifndef RL_SENDER_H
#define RL_SENDER_H

#include <stddef.h>

#define RL_BACKOFF_MIN_US 100000ULL   /* first retry after 0.1 s */
#define RL_BACKOFF_MAX_US 5000000ULL  /* never wait more than 5 s between attempts */
#define RL_SNDBUF_BYTES (4 << 20)     /* requested SO_SNDBUF; the kernel caps it */

typedef enum { RL_SENT = 0, RL_QUEUED = 1, RL_DROPPED = 2 } rl_send_result;

typedef struct rl_sender {
    char path[108];
    int fd;
    unsigned long long next_attempt_us;
    unsigned long long backoff_us;
    char *tail;              /* unsent end of a line the kernel took in part */
    size_t tail_len;
    size_t tail_cap;
    unsigned long long sent;     /* lines written completely */
    unsigned long long dropped;  /* lines lost: reader slow or gone */
    unsigned long long connects; /* successful connections */
    int last_errno;              /* why the last line was dropped */
} rl_sender;

/* Prepares a sender for `path` (cut to the size of sun_path); connects lazily. */
void rl_sender_init(rl_sender *s, const char *path);
/* Sends whole lines (each ending in '\n'); `lines` is how many `data` holds (the caller knows:
 * the buffer is scanned for them only when the kernel takes part of it); `now_us` is a
 * monotonic clock in microseconds. */
rl_send_result rl_sender_send(rl_sender *s, const char *data, size_t len,
                              unsigned long long lines, unsigned long long now_us);
/* Closes the socket and frees the pending tail. */
void rl_sender_close(rl_sender *s);

#endif

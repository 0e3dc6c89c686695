/* rl_sender: see rl_sender.h. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rl_sender.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

void rl_sender_init(rl_sender *s, const char *path) {
    memset(s, 0, sizeof(*s));
    strncpy(s->path, path ? path : "", sizeof(s->path) - 1);
    s->fd = -1;
    s->backoff_us = RL_BACKOFF_MIN_US;
}

/* Lines in a buffer of whole lines: JSON escapes every newline inside a value. */
static unsigned long long count_lines(const char *p, size_t n) {
    unsigned long long lines = 0;
    const char *end = p + n;
    while (p < end && (p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        lines++;
        p++;
    }
    return lines;
}

static void disconnect(rl_sender *s) {
    if (s->fd >= 0) close(s->fd);
    s->fd = -1;
    if (s->tail_len) {
        /* The rest of a line cannot go on a new connection: those lines are lost. */
        s->dropped += count_lines(s->tail, s->tail_len);
        s->tail_len = 0;
    }
}

static void schedule_retry(rl_sender *s, unsigned long long now_us) {
    s->next_attempt_us = now_us + s->backoff_us;
    s->backoff_us *= 2;
    if (s->backoff_us > RL_BACKOFF_MAX_US) s->backoff_us = RL_BACKOFF_MAX_US;
}

/* One non-blocking connection attempt; returns 1 when connected. */
static int try_connect(rl_sender *s, unsigned long long now_us) {
    struct sockaddr_un addr;
    int fd;
    if (s->path[0] == '\0' || now_us < s->next_attempt_us) return 0;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        s->last_errno = errno;
        schedule_retry(s, now_us);
        return 0;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, s->path, strlen(s->path));
    /* A UNIX stream connect either completes at once or fails (EAGAIN when the listener's
     * backlog is full): it never waits, and a failure is simply retried later. */
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        s->last_errno = errno;
        close(fd);
        schedule_retry(s, now_us);
        return 0;
    }
    /* Ask for a larger send buffer: a UNIX stream socket charges ~1 KiB of overhead per
     * queued line, so the default holds only ~170 lines of a burst. The kernel caps the
     * request at net.core.wmem_max; failure only leaves the default. */
    {
        int sndbuf = RL_SNDBUF_BYTES;
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
    }
    s->fd = fd;
    s->connects++;
    s->backoff_us = RL_BACKOFF_MIN_US;
    return 1;
}

/* Writes as much as the kernel takes now: bytes written, 0 on EAGAIN, -1 on a dead socket. */
static long write_some(rl_sender *s, const char *p, size_t n) {
    ssize_t w;
    do {
        w = send(s->fd, p, n, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (w < 0 && errno == EINTR);
    if (w >= 0) return (long)w;
    s->last_errno = errno;
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) return 0;
    return -1;
}

/* Tries to finish a partly written line: 1 when nothing is pending anymore. */
static int flush_tail(rl_sender *s) {
    long w;
    if (s->tail_len == 0) return 1;
    w = write_some(s, s->tail, s->tail_len);
    if (w < 0) return -1;
    s->sent += count_lines(s->tail, (size_t)w);
    if ((size_t)w == s->tail_len) {
        s->tail_len = 0;
        return 1;
    }
    memmove(s->tail, s->tail + w, s->tail_len - (size_t)w);
    s->tail_len -= (size_t)w;
    return 0;
}

static int keep_tail(rl_sender *s, const char *p, size_t n) {
    if (n > s->tail_cap) {
        char *t = realloc(s->tail, n);
        if (t == NULL) return 0;
        s->tail = t;
        s->tail_cap = n;
    }
    memcpy(s->tail, p, n);
    s->tail_len = n;
    return 1;
}

rl_send_result rl_sender_send(rl_sender *s, const char *data, size_t len,
                              unsigned long long lines, unsigned long long now_us) {
    int attempt;
    /* Two attempts: a reader that restarted leaves us an old socket that fails with EPIPE;
     * the immediate reconnect then delivers these lines to the new reader. */
    for (attempt = 0; attempt < 2; attempt++) {
        long w;
        int f;
        if (s->fd < 0 && !try_connect(s, now_us)) break;
        f = flush_tail(s);
        if (f < 0) {
            disconnect(s);
            continue;
        }
        if (f == 0) break; /* still busy with older lines: the reader is slow */
        w = write_some(s, data, len);
        if (w < 0) {
            disconnect(s);
            continue;
        }
        if ((size_t)w == len) {
            s->sent += lines;
            return RL_SENT;
        }
        if (w == 0) break;
        s->sent += count_lines(data, (size_t)w);
        if (!keep_tail(s, data + w, len - (size_t)w)) {
            /* Cannot remember the rest: the stream is now mid-line, so start afresh. */
            s->last_errno = ENOMEM;
            s->dropped += count_lines(data + w, len - (size_t)w);
            close(s->fd);
            s->fd = -1;
            return RL_DROPPED;
        }
        return RL_QUEUED;
    }
    s->dropped += lines;
    return RL_DROPPED;
}

void rl_sender_close(rl_sender *s) {
    disconnect(s);
    free(s->tail);
    s->tail = NULL;
    s->tail_cap = 0;
}

/*
 * rl_sender against real UNIX stream sockets: no reader, a slow reader, a reader that
 * restarts. Every call must return at once; every line that arrives must be whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rl_sender.h"
#include "unit.h"

typedef struct {
    char dir[64];
    char path[108];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof(*f));
    if (f == NULL) return -1;
    strcpy(f->dir, "/tmp/rl_sender_XXXXXX");
    if (mkdtemp(f->dir) == NULL) return -1;
    snprintf(f->path, sizeof(f->path), "%s/http.socket", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static int listen_at(const char *path) {
    struct sockaddr_un a;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    strcpy(a.sun_path, path);
    unlink(path);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 16), 0);
    return fd;
}

static int accept_one(int lfd) {
    int fd = accept(lfd, NULL, NULL);
    assert_true(fd >= 0);
    return fd;
}

/* Reads whatever is available without waiting; returns the byte count. */
static size_t drain(int fd, char *buf, size_t cap) {
    size_t got = 0;
    int fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    for (;;) {
        ssize_t r = read(fd, buf + got, cap - got);
        if (r <= 0) break;
        got += (size_t)r;
        if (got == cap) break;
    }
    fcntl(fd, F_SETFL, fl);
    return got;
}

static void no_reader_drops_and_backs_off(void **state) {
    fixture *f = *state;
    rl_sender s;
    rl_sender_init(&s, f->path);
    assert_int_equal(rl_sender_send(&s, "{}\n", 3, 1, 1000000), RL_DROPPED);
    assert_int_equal(s.dropped, 1);
    assert_int_equal(s.last_errno, ENOENT);
    assert_int_equal(s.next_attempt_us, 1000000 + RL_BACKOFF_MIN_US);
    /* Inside the backoff window no connection is attempted at all. */
    assert_int_equal(rl_sender_send(&s, "{}\n", 3, 1, 1000001), RL_DROPPED);
    assert_int_equal(s.backoff_us, 2 * RL_BACKOFF_MIN_US);
    /* The backoff doubles on each failure up to its ceiling. */
    {
        unsigned long long now = 1000000;
        int i;
        for (i = 0; i < 20; i++) {
            now = s.next_attempt_us;
            rl_sender_send(&s, "{}\n", 3, 1, now);
        }
        assert_int_equal(s.backoff_us, RL_BACKOFF_MAX_US);
    }
    assert_int_equal(s.connects, 0);
    rl_sender_close(&s);
}

static void lines_arrive_whole(void **state) {
    fixture *f = *state;
    rl_sender s;
    char buf[64];
    int lfd = listen_at(f->path), cfd;
    rl_sender_init(&s, f->path);
    assert_int_equal(rl_sender_send(&s, "{\"a\":1}\n", 8, 1, 1), RL_SENT);
    assert_int_equal(rl_sender_send(&s, "{\"a\":2}\n", 8, 1, 2), RL_SENT);
    cfd = accept_one(lfd);
    assert_int_equal(drain(cfd, buf, sizeof(buf)), 16);
    assert_memory_equal(buf, "{\"a\":1}\n{\"a\":2}\n", 16);
    assert_int_equal(s.sent, 2);
    assert_int_equal(s.connects, 1);
    rl_sender_close(&s);
    close(cfd);
    close(lfd);
}

/* Line i is "<i zero-padded to 8>" + 'x' * (len - 10) + "\n" with len varying. */
static size_t make_line(char *out, unsigned i) {
    size_t len = 200 + (i * 37) % 900, k;
    snprintf(out, 10, "%08u", i);
    for (k = 8; k < len - 1; k++) out[k] = 'x';
    out[len - 1] = '\n';
    return len;
}

static void slow_reader_loses_whole_lines_only(void **state) {
    fixture *f = *state;
    rl_sender s;
    static char got[8 << 20];
    char line[1200];
    int lfd = listen_at(f->path), cfd = -1, sndbuf = 4096;
    unsigned i, complete = 0;
    size_t n = 0, off = 0;
    rl_sender_init(&s, f->path);
    /* Fill the socket: the reader never reads, so sends must start failing, not block. */
    for (i = 0; i < 200000 && s.dropped == 0; i++) {
        size_t len = make_line(line, i);
        rl_sender_send(&s, line, len, 1, 10 + i);
        if (cfd < 0) {
            cfd = accept_one(lfd);
            setsockopt(s.fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
        }
    }
    assert_true(s.dropped > 0);
    /* The reader comes back: everything queued arrives, then new lines flow again. */
    n = drain(cfd, got, sizeof(got));
    for (; i < 400000 && s.sent < 50; i++) {
        size_t len = make_line(line, i);
        rl_sender_send(&s, line, len, 1, 10 + i);
        n += drain(cfd, got + n, sizeof(got) - n);
    }
    /* Let a possible pending tail finish. */
    rl_sender_send(&s, "end\n", 4, 1, 10 + i);
    n += drain(cfd, got + n, sizeof(got) - n);
    /* Every received line is exactly the line that was sent under its number. */
    while (off < n) {
        char *nl = memchr(got + off, '\n', n - off);
        char want[1200];
        unsigned num;
        assert_non_null(nl);
        if ((size_t)(nl - (got + off)) == 3) break; /* "end" */
        assert_int_equal(sscanf(got + off, "%8u", &num), 1);
        assert_int_equal((size_t)(nl - (got + off)) + 1, make_line(want, num));
        assert_memory_equal(got + off, want, (size_t)(nl - (got + off)) + 1);
        complete++;
        off = (size_t)(nl - got) + 1;
    }
    assert_true(complete > 0);
    assert_int_equal(complete, s.sent - 1); /* minus "end" */
    rl_sender_close(&s);
    close(cfd);
    close(lfd);
}

static void reader_restart_reconnects(void **state) {
    fixture *f = *state;
    rl_sender s;
    char buf[64];
    int lfd = listen_at(f->path), cfd;
    rl_sender_init(&s, f->path);
    assert_int_equal(rl_sender_send(&s, "one\n", 4, 1, 1), RL_SENT);
    cfd = accept_one(lfd);
    assert_int_equal(drain(cfd, buf, sizeof(buf)), 4);
    /* The reader goes away entirely. */
    close(cfd);
    close(lfd);
    unlink(f->path);
    assert_int_equal(rl_sender_send(&s, "two\n", 4, 1, 2), RL_DROPPED);
    assert_int_equal(s.fd, -1);
    /* A new reader listens on the same path: after the backoff, lines flow again. */
    lfd = listen_at(f->path);
    assert_int_equal(rl_sender_send(&s, "three\n", 6, 1, 3), RL_DROPPED); /* still backing off */
    assert_int_equal(rl_sender_send(&s, "four\n", 5, 1, 3 + RL_BACKOFF_MAX_US), RL_SENT);
    cfd = accept_one(lfd);
    assert_int_equal(drain(cfd, buf, sizeof(buf)), 5);
    assert_memory_equal(buf, "four\n", 5);
    /* A restart without a gap (old connection dead, new listener up) loses nothing. */
    close(cfd);
    close(lfd);
    lfd = listen_at(f->path);
    assert_int_equal(rl_sender_send(&s, "five\n", 5, 1, 4 + RL_BACKOFF_MAX_US), RL_SENT);
    cfd = accept_one(lfd);
    assert_int_equal(drain(cfd, buf, sizeof(buf)), 5);
    assert_int_equal(s.connects, 3);
    rl_sender_close(&s);
    close(cfd);
    close(lfd);
}

static void batches_count_lines_sent_and_dropped(void **state) {
    fixture *f = *state;
    rl_sender s;
    char buf[64];
    static const char three[] = "{\"n\":1}\n{\"n\":2}\n{\"n\":\"a\\nb\"}\n";
    int lfd, cfd;
    rl_sender_init(&s, f->path);
    /* No reader: the whole batch is lost, and counted line by line. */
    assert_int_equal(rl_sender_send(&s, three, sizeof(three) - 1, 3, 1), RL_DROPPED);
    assert_int_equal(s.dropped, 3);
    lfd = listen_at(f->path);
    assert_int_equal(rl_sender_send(&s, three, sizeof(three) - 1, 3, 1 + RL_BACKOFF_MAX_US), RL_SENT);
    assert_int_equal(s.sent, 3);
    cfd = accept_one(lfd);
    assert_int_equal(drain(cfd, buf, sizeof(buf)), sizeof(three) - 1);
    assert_memory_equal(buf, three, sizeof(three) - 1);
    rl_sender_close(&s);
    close(cfd);
    close(lfd);
}

int run_sender_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(no_reader_drops_and_backs_off, setup, teardown),
        cmocka_unit_test_setup_teardown(lines_arrive_whole, setup, teardown),
        cmocka_unit_test_setup_teardown(slow_reader_loses_whole_lines_only, setup, teardown),
        cmocka_unit_test_setup_teardown(reader_restart_reconnects, setup, teardown),
        cmocka_unit_test_setup_teardown(batches_count_lines_sent_and_dropped, setup, teardown),
    };
    return cmocka_run_group_tests_name("rl_sender", tests, NULL, NULL);
}

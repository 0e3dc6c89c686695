/*
 * The module's own work per request, without Apache: build the JSON line of a browser-like
 * request, compute its JA4H (fresh and through the keep-alive memo), append it to a batch,
 * and send lines on a UNIX stream socket that a second thread drains — one line per send, and
 * in 256 KiB batches as the module does under load. Prints one JSON object with ns per line
 * for each step (the best of several runs, so that other load on the machine inflates the
 * figures least).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "rl_batch.h"
#include "rl_event.h"
#include "rl_ja4h.h"
#include "rl_json.h"
#include "rl_sender.h"

static const char *const NAMES[] = {"Host", "User-Agent", "Accept", "Accept-Language",
                                    "Accept-Encoding", "Cookie", "Referer", "Connection"};
static const rl_header HEADERS[] = {
    {"user-agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", 0},
    {"accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", 0},
    {"accept-language", "en-US,en;q=0.5", 0},
    {"accept-encoding", "gzip, deflate", 0},
    {"referer", "http://127.0.0.1/", 0},
    {"cookie", "session=0123456789abcdef; theme=dark", 1}};
static const rl_ja4h_input JIN = {"GET", "HTTP/1.1", NAMES, 8, "en-US,en;q=0.5",
                                  "session=0123456789abcdef; theme=dark; _ga=GA1.2.3.4"};

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *drain(void *arg) {
    int fd = *(int *)arg;
    char buf[65536];
    while (read(fd, buf, sizeof(buf)) > 0) {
    }
    return NULL;
}

static void fill_event(rl_event *e, const char *ja4h) {
    memset(e, 0, sizeof(*e));
    e->ts_us = 1795244062977894ULL;
    e->src_ip = "127.0.0.1";
    e->src_port = 54321;
    e->dst_ip = "127.0.0.1";
    e->dst_port = 80;
    e->method = "GET";
    e->host = "127.0.0.1";
    e->path = "/index.html";
    e->query = "q=1";
    e->protocol = "HTTP/1.1";
    e->headers = HEADERS;
    e->n_headers = 6;
    e->header_names = NAMES;
    e->n_header_names = 8;
    e->conn_request_index = 3;
    e->pid = 4242;
    e->ja4h = ja4h;
    e->max_len = 1024;
}

int main(int argc, char **argv) {
    const char *sock = argc > 1 ? argv[1] : NULL;
    enum { N = 200000, RUNS = 5 };
    double best_line = 1e18, best_ja4h = 1e18, best_memo = 1e18, best_send = 1e18;
    double best_add = 1e18, best_batch_send = 1e18;
    static rl_ja4h_memo memo;
    char out[RL_JA4H_MAX];
    size_t line_len = 0;
    int run, i;
    for (run = 0; run < RUNS; run++) {
        double t0 = now_ns(), t;
        rl_event e;
        rl_buf b;
        rl_batch lines;
        /* As the module does: the line is written in place at the batch's tail. */
        rl_batch_init(&lines, 1 << 20);
        t0 = now_ns();
        for (i = 0; i < N; i++) {
            fill_event(&e, "ge11cr07enus_aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc");
            rl_buf_init_on(&b, rl_batch_tail(&lines), rl_batch_room(&lines));
            rl_event_json(&b, &e);
            line_len = b.len;
            if (b.owned) {
                rl_batch_clear(&lines); /* the batch is full: it would be sent now */
            } else {
                rl_batch_commit(&lines, b.len, 1);
            }
            rl_buf_free(&b);
        }
        t = (now_ns() - t0) / N;
        rl_batch_free(&lines);
        if (t < best_line) best_line = t;
        t0 = now_ns();
        for (i = 0; i < N / 10; i++) rl_ja4h(&JIN, out);
        t = (now_ns() - t0) / (N / 10);
        if (t < best_ja4h) best_ja4h = t;
        t0 = now_ns();
        for (i = 0; i < N; i++) rl_ja4h_cached(&memo, &JIN, out);
        t = (now_ns() - t0) / N;
        if (t < best_memo) best_memo = t;
        {
            rl_batch batch;
            char line[705];
            memset(line, 'x', sizeof(line));
            line[sizeof(line) - 1] = '\n';
            rl_batch_init(&batch, 1 << 20);
            t0 = now_ns();
            for (i = 0; i < N; i++) {
                if (rl_batch_add(&batch, line, sizeof(line), 1) == RL_BATCH_FULL) {
                    rl_batch_clear(&batch);
                    rl_batch_add(&batch, line, sizeof(line), 1);
                }
            }
            t = (now_ns() - t0) / N;
            if (t < best_add) best_add = t;
            rl_batch_free(&batch);
        }
    }
    if (sock) {
        /* A reader thread drains a listening socket, as the correlator would. */
        int lfd = socket(AF_UNIX, SOCK_STREAM, 0), cfd;
        struct sockaddr_un a;
        pthread_t th;
        rl_sender s;
        rl_event e;
        rl_buf b;
        int per_batch_lines = 0;
        memset(&a, 0, sizeof(a));
        a.sun_family = AF_UNIX;
        strncpy(a.sun_path, sock, sizeof(a.sun_path) - 1);
        unlink(sock);
        if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(lfd, 4) != 0) {
            perror("bind");
            return 1;
        }
        rl_sender_init(&s, sock);
        fill_event(&e, "ge11cr07enus_aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc");
        rl_buf_init(&b, 2048);
        rl_event_json(&b, &e);
        rl_sender_send(&s, b.data, b.len, 1, 1); /* connects */
        cfd = accept(lfd, NULL, NULL);
        pthread_create(&th, NULL, drain, &cfd);
        {
            rl_batch batch;
            int per_batch = 0;
            rl_batch_init(&batch, 1 << 20);
            /* As big as a batch the module sends under load (RL_BATCH_DUE_BYTES, 256 KiB). */
            while (batch.len < 256 * 1024) {
                rl_batch_add(&batch, b.data, b.len, 1);
                per_batch++;
            }
            per_batch_lines = per_batch;
            /* Only writes the kernel took count: a refused write (reader behind) is cheaper
             * than a real one and would flatter the figure. */
            for (run = 0; run < RUNS; run++) {
                double spent = 0, lines = 0, t;
                for (i = 0; i < N / 4; i++) {
                    double t0 = now_ns();
                    if (rl_sender_send(&s, b.data, b.len, 1, 2) == RL_SENT) {
                        spent += now_ns() - t0;
                        lines += 1;
                    }
                }
                t = lines ? spent / lines : 1e18;
                if (t < best_send) best_send = t;
                spent = 0;
                lines = 0;
                for (i = 0; i < N / per_batch; i++) {
                    double t0 = now_ns();
                    if (rl_sender_send(&s, batch.data, batch.len, batch.lines, 2) == RL_SENT) {
                        spent += now_ns() - t0;
                        lines += per_batch;
                    }
                }
                t = lines ? spent / lines : 1e18;
                if (t < best_batch_send) best_batch_send = t;
            }
            rl_batch_free(&batch);
        }
        printf("{\"line_bytes\":%zu,\"json_ns\":%.0f,\"ja4h_ns\":%.0f,\"ja4h_memo_ns\":%.0f,"
               "\"batch_add_ns\":%.0f,\"send_single_ns\":%.0f,\"send_batched_ns\":%.0f,"
               "\"batch_lines\":%d,\"sent\":%llu,\"dropped\":%llu}\n",
               line_len, best_line, best_ja4h, best_memo, best_add, best_send, best_batch_send,
               per_batch_lines, s.sent, s.dropped);
        rl_sender_close(&s);
        shutdown(cfd, SHUT_RDWR);
        pthread_join(th, NULL);
        close(cfd);
        close(lfd);
        unlink(sock);
        rl_buf_free(&b);
        return 0;
    }
    printf("{\"line_bytes\":%zu,\"json_ns\":%.0f,\"ja4h_ns\":%.0f,\"ja4h_memo_ns\":%.0f,"
           "\"batch_add_ns\":%.0f}\n",
           line_len, best_line, best_ja4h, best_memo, best_add);
    return 0;
}

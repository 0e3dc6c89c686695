/*
 * mod_reqin_log: one JSON line per HTTP request, written to a UNIX stream socket
 * (`http.socket`) that the ja4-platform correlator reads. The line carries the TCP peer
 * (src_ip:src_port, the key that joins it to the TLS handshake the capture saw), the request
 * line, chosen headers, every header name in wire order, TLS details from mod_ssl and the
 * JA4H fingerprint computed here (the capture cannot read HTTPS requests).
 *
 * Apache never waits for the reader: lines are batched per child and sent with one
 * non-blocking write per batch (see deliver() below, rl_batch.h and rl_sender.h). Everything
 * that does not need Apache lives in rl_*.c and is unit-tested with cmocka; this file is the
 * thin Apache shell.
 *
 * Hooks: pre_connection (addresses, wire-order header filter), create_request (resets that
 * filter), post_read_request (logs every parsed request), log_transaction (logs requests
 * Apache rejected before post_read_request, with their status), pre_close_connection (sends
 * what is left when there is no flusher thread), child_init (batches, mutex, flusher thread in
 * threaded MPMs; a pre-cleanup sends the last batch when the child exits).
 */
#include "httpd.h"
#include "http_config.h"
#include "http_connection.h"
#include "http_core.h"
#include "http_log.h"
#include "http_protocol.h"
#include "http_request.h"
#include "ap_mmn.h"
#include "ap_mpm.h"
#include "apr_atomic.h"
#include "apr_strings.h"
#include "apr_thread_cond.h"
#include "apr_thread_mutex.h"
#include "apr_thread_proc.h"
#include "util_filter.h"

#if AP_MODULE_MAGIC_AT_LEAST(20120211, 102)
#include "http_ssl.h"
#define RL_HAVE_AP_SSL 1
#else
#include "mod_ssl.h"
#endif

#include <time.h>
#include <unistd.h>

#include "rl_batch.h"
#include "rl_event.h"
#include "rl_ja4h.h"
#include "rl_json.h"
#include "rl_sender.h"
#include "rl_wire.h"

/* The one symbol Apache looks up in the .so: everything else is built hidden (see build.ts). */
__attribute__((visibility("default"))) module AP_MODULE_DECLARE_DATA reqin_log_module;

#define RL_DEFAULT_MAX_LEN 1024
#define RL_REPORT_INTERVAL_US 10000000ULL /* drop warnings at most every 10 s per process */
/* A batch goes once it holds 256 KiB or its first line is 500 ms old: each send wakes the
 * reader (an inter-processor interrupt, the dearest part of a send in a VM), so fewer, bigger
 * sends cost Apache less per line. Busy children fill 256 KiB in tens of milliseconds; the age
 * bounds the wait of the others — it matters with prefork, where 40 children sending every
 * 50 ms (~20 lines each) cost Apache ~3 % more CPU per request than with no reader at all. */
#define RL_BATCH_AGE_US 500000
#define RL_BATCH_DUE_BYTES (256 * 1024)
/* The flusher sends a batch that no request came to send, as old as a request would have sent
 * it (quiet times). It sleeps until exactly then, so it wakes about twice a second per child
 * under load rather than on a fixed short period. */
#define RL_FLUSHER_AFTER_US RL_BATCH_AGE_US
#define RL_BATCH_BYTES (1 << 20)          /* per batch; two per child (one filling, one sent) */
#define RL_WIRE_FILTER "REQIN_LOG_WIRE"
#define RL_STACK_HEADERS 24   /* chosen headers gathered without a pool allocation */
#define RL_WARM_LINE_BYTES 768 /* a browser-like request's line is ~700 bytes */

/* The default ReqinLogHeaders set (what the detector uses). */
static const char *const RL_DEFAULT_HEADERS[] = {
    "User-Agent", "Accept", "Accept-Language", "Accept-Encoding", "Content-Type", "Referer",
    "X-Forwarded-For", "Sec-CH-UA", "Sec-CH-UA-Mobile", "Sec-CH-UA-Platform", "Cookie", NULL};

/* Headers whose values are secrets: only their presence is ever logged. */
static const char *const RL_PRESENCE_ONLY[] = {"Cookie", "Authorization", "Proxy-Authorization",
                                               NULL};

typedef struct {
    const char *name;  /* as configured, for the case-insensitive table lookup */
    const char *lower; /* output key */
    const char *json_name; /* `lower` as a JSON string, quotes included; NULL: escape per line */
    size_t json_name_len;
    size_t len;        /* strlen(name) */
    apr_uint64_t head8; /* `lower`'s first 8 bytes as a word (names of 8 bytes or more) */
    int presence_only;
    int next;          /* next header of the set in the same length bucket; -1: none */
} rl_header_conf;

/* Name lengths from 63 bytes up share the last bucket. */
#define RL_LEN_BUCKETS 64

/*
 * The chosen headers, in configuration order, indexed by name length: a request's field is
 * compared only with the chosen names of its length (usually one), not with all of them.
 */
typedef struct {
    apr_array_header_t *list;   /* of rl_header_conf */
    int first[RL_LEN_BUCKETS];  /* per length bucket: first index in list; -1: none */
    int accept_language;        /* index of Accept-Language in list (JA4H needs it); -1 */
    int cookie;                 /* likewise for Cookie */
} rl_header_set;

static size_t len_bucket(size_t len) { return len < RL_LEN_BUCKETS ? len : RL_LEN_BUCKETS - 1; }

typedef struct {
    int enabled;                 /* -1: unset */
    const char *socket_path;     /* main server only */
    rl_header_set *headers;      /* NULL: unset */
    int max_len;                 /* -1: unset */
} rl_server_conf;

/* Per (primary) connection: the TCP peer as the kernel sees it, and the wire recorder. */
typedef struct {
    const char *src_ip;
    const char *dst_ip;
    unsigned src_port;
    unsigned dst_port;
    const char *addr_json;          /* the four as the line's fields (rl_event_addr_json) */
    size_t addr_json_len;
    volatile apr_uint32_t requests; /* requests seen; HTTP/2 streams update it concurrently */
    rl_wire *wire;                  /* NULL when the filter is not installed */
    rl_ja4h_memo *memo;             /* HTTP/1 only: HTTP/2 streams run in parallel */
    int tls;                        /* -1 until the first request asks (mod_ssl decides later) */
    /* HTTP/1 over TLS: mod_ssl's SNI, protocol and cipher, asked with `tls` at the connection's
     * first request and kept in the connection's pool (three lookups per request were ~1/4 of
     * the module's cost under HTTPS). SNI holds for the connection; protocol and cipher too,
     * except after a TLS 1.2 renegotiation (mod_ssl renegotiates only for per-directory TLS
     * settings): later requests then still show the first handshake's. */
    const char *tls_sni, *tls_protocol, *tls_cipher;
} rl_conn;

/*
 * Per child process. Lines go into *g_active under g_mutex. Whoever finds the batch due — the
 * request thread that just appended, or the flusher thread on its periodic round — swaps it for
 * the spare (g_spare, NULL while a send is in progress) and sends it outside the mutex. Holding
 * the taken batch is what gives that thread sole use of g_sender and the report counters.
 * Under load, batches are sent by request threads (one non-blocking write per batch, no thread
 * hand-off); the flusher only picks up what quiet periods leave behind.
 */
static rl_sender g_sender;
static rl_batch g_batches[2];
static rl_batch *g_active;
static rl_batch *g_spare;
static apr_thread_mutex_t *g_mutex;
static apr_thread_cond_t *g_cond;
static apr_thread_t *g_flusher; /* NULL in a non-threaded MPM (prefork): see child_init */
static int g_stopping;
static int g_flusher_idle; /* waiting without a timeout: a first line must wake it */
static int g_ready;
static long g_pid;
static unsigned long long g_last_report_us;
static unsigned long long g_reported_dropped;
static unsigned long long g_batch_full; /* of the dropped lines: refused by a full batch */
static ap_filter_rec_t *g_wire_filter;

/* Report intervals and reconnect backoff: the coarse clock (a few ms resolution) reads the
 * kernel's last tick without the TSC read of the precise one. */
static unsigned long long monotonic_us(void) {
    struct timespec ts;
#ifdef CLOCK_MONOTONIC_COARSE
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
#else
    clock_gettime(CLOCK_MONOTONIC, &ts);
#endif
    return (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000;
}

/* ---- configuration ---------------------------------------------------------------- */

static int is_presence_only(const char *name) {
    int i;
    for (i = 0; RL_PRESENCE_ONLY[i]; i++)
        if (strcasecmp(name, RL_PRESENCE_ONLY[i]) == 0) return 1;
    return 0;
}

static rl_header_set *make_header_set(apr_pool_t *p) {
    rl_header_set *set = apr_palloc(p, sizeof(*set));
    size_t k;
    set->list = apr_array_make(p, 12, sizeof(rl_header_conf));
    for (k = 0; k < RL_LEN_BUCKETS; k++) set->first[k] = -1;
    set->accept_language = -1;
    set->cookie = -1;
    return set;
}

static void add_header(apr_pool_t *p, rl_header_set *set, const char *name) {
    rl_header_conf *h = apr_array_push(set->list), *all;
    int at = set->list->nelts - 1, *link;
    h->name = apr_pstrdup(p, name);
    h->len = strlen(name);
    {
        /* Zero-padded to 8 more bytes: same_name reads names in 8-byte words. */
        char *lower = apr_pcalloc(p, h->len + 8);
        memcpy(lower, name, h->len);
        ap_str_tolower(lower);
        h->lower = lower;
        memcpy(&h->head8, lower, 8);
    }
    h->presence_only = is_presence_only(name);
    h->next = -1;
    h->json_name = NULL;
    h->json_name_len = 0;
    {
        rl_buf json;
        rl_buf_init(&json, 0);
        rl_json_cstr(&json, h->lower, RL_HEADER_NAME_MAX);
        if (!json.failed) {
            h->json_name = apr_pstrmemdup(p, json.data, json.len);
            h->json_name_len = json.len;
        }
        rl_buf_free(&json);
    }
    /* Appended at its bucket's end (the array may have moved: links are indices). */
    all = (rl_header_conf *)set->list->elts;
    link = &set->first[len_bucket(h->len)];
    while (*link >= 0) link = &all[*link].next;
    *link = at;
    if (set->accept_language < 0 && strcmp(h->lower, "accept-language") == 0)
        set->accept_language = at;
    if (set->cookie < 0 && strcmp(h->lower, "cookie") == 0) set->cookie = at;
}

static void *create_server_conf(apr_pool_t *p, server_rec *s) {
    rl_server_conf *c = apr_pcalloc(p, sizeof(*c));
    (void)s;
    c->enabled = -1;
    c->max_len = -1;
    return c;
}

static void *merge_server_conf(apr_pool_t *p, void *basev, void *addv) {
    rl_server_conf *base = basev, *add = addv, *c = apr_pcalloc(p, sizeof(*c));
    c->enabled = add->enabled != -1 ? add->enabled : base->enabled;
    c->socket_path = base->socket_path; /* one socket per process: the main server's */
    c->headers = add->headers ? add->headers : base->headers;
    c->max_len = add->max_len != -1 ? add->max_len : base->max_len;
    return c;
}

static rl_server_conf *server_conf(server_rec *s) {
    return ap_get_module_config(s->module_config, &reqin_log_module);
}

static const char *cmd_enabled(cmd_parms *cmd, void *dummy, int on) {
    (void)dummy;
    server_conf(cmd->server)->enabled = on;
    return NULL;
}

static const char *cmd_socket(cmd_parms *cmd, void *dummy, const char *arg) {
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);
    (void)dummy;
    if (err) return err;
    if (strlen(arg) >= sizeof(((rl_sender *)0)->path))
        return apr_psprintf(cmd->pool,
                            "ReqinLogSocket: path '%s' is longer than a UNIX socket path may be "
                            "(%d bytes); use a shorter directory",
                            arg, (int)sizeof(((rl_sender *)0)->path) - 1);
    server_conf(cmd->server)->socket_path = apr_pstrdup(cmd->pool, arg);
    return NULL;
}

static const char *cmd_headers(cmd_parms *cmd, void *dummy, const char *arg) {
    rl_server_conf *c = server_conf(cmd->server);
    (void)dummy;
    if (c->headers == NULL) c->headers = make_header_set(cmd->pool);
    add_header(cmd->pool, c->headers, arg);
    return NULL;
}

static const char *cmd_max_len(cmd_parms *cmd, void *dummy, const char *arg) {
    char *end;
    long v = strtol(arg, &end, 10);
    (void)dummy;
    if (*arg == '\0' || *end != '\0' || v < 16 || v > 65536)
        return apr_psprintf(cmd->pool,
                            "ReqinLogMaxHeaderLength: '%s' is not a number of bytes between 16 "
                            "and 65536",
                            arg);
    server_conf(cmd->server)->max_len = (int)v;
    return NULL;
}

static const command_rec rl_cmds[] = {
    AP_INIT_FLAG("ReqinLogEnabled", cmd_enabled, NULL, RSRC_CONF,
                 "On|Off: write one JSON line per request to the ReqinLogSocket"),
    AP_INIT_TAKE1("ReqinLogSocket", cmd_socket, NULL, RSRC_CONF,
                  "path of the UNIX stream socket the correlator listens on (main server)"),
    AP_INIT_ITERATE("ReqinLogHeaders", cmd_headers, NULL, RSRC_CONF,
                    "request headers to include (Cookie/Authorization: presence only)"),
    AP_INIT_TAKE1("ReqinLogMaxHeaderLength", cmd_max_len, NULL, RSRC_CONF,
                  "bytes kept of each header value, path and query (default 1024)"),
    {NULL}};

static int conf_enabled(const rl_server_conf *c) { return c->enabled == 1; }

static rl_header_set *g_default_headers;

static const rl_header_set *conf_headers(const rl_server_conf *c) {
    return c->headers ? c->headers : g_default_headers;
}

static size_t conf_max_len(const rl_server_conf *c) {
    return c->max_len > 0 ? (size_t)c->max_len : RL_DEFAULT_MAX_LEN;
}

static int post_config(apr_pool_t *pconf, apr_pool_t *plog, apr_pool_t *ptemp, server_rec *s) {
    int i;
    rl_server_conf *main_conf = server_conf(s);
    server_rec *v;
    (void)plog;
    (void)ptemp;
    g_default_headers = make_header_set(pconf);
    for (i = 0; RL_DEFAULT_HEADERS[i]; i++) add_header(pconf, g_default_headers, RL_DEFAULT_HEADERS[i]);
    for (v = s; v; v = v->next) {
        if (conf_enabled(server_conf(v)) && main_conf->socket_path == NULL) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                         "mod_reqin_log: ReqinLogEnabled is On but no ReqinLogSocket is set "
                         "in the main server configuration");
            return HTTP_INTERNAL_SERVER_ERROR;
        }
    }
    return OK;
}

/* ---- per child -------------------------------------------------------------------- */

/* Logs drops, rate-limited so that a dead reader cannot flood the error log. */
static void report_drops(server_rec *s, unsigned long long now) {
    if (g_sender.dropped <= g_reported_dropped) return;
    if (g_last_report_us != 0 && now - g_last_report_us < RL_REPORT_INTERVAL_US) return;
    ap_log_error(APLOG_MARK, APLOG_WARNING, g_sender.last_errno, s,
                 "mod_reqin_log: %" APR_UINT64_T_FMT " lines dropped (reader of %s slow or "
                 "gone; retrying with backoff); %" APR_UINT64_T_FMT " sent so far by child %ld",
                 (apr_uint64_t)(g_sender.dropped - g_reported_dropped), g_sender.path,
                 (apr_uint64_t)g_sender.sent, g_pid);
    g_reported_dropped = g_sender.dropped;
    g_last_report_us = now;
}

/* Takes the active batch when it is due at wall-clock time `now` (or `force` and not empty).
 * Caller holds g_mutex. */
static rl_batch *take_if_due(unsigned long long now, int force) {
    rl_batch *full = g_active;
    if (g_spare == NULL) return NULL; /* another thread is sending: it will come back */
    if (!(force ? full->len > 0 || full->overflowed > 0
                : rl_batch_due(full, now, RL_BATCH_AGE_US, RL_BATCH_DUE_BYTES) ||
                      full->overflowed > 0))
        return NULL;
    g_active = g_spare;
    g_spare = NULL;
    return full;
}

/* Sends a taken batch (outside the mutex), then gives it back as the spare. */
static void send_taken(server_rec *s, rl_batch *full) {
    unsigned long long now = monotonic_us();
    if (full->len) rl_sender_send(&g_sender, full->data, full->len, full->lines, now);
    g_sender.dropped += full->overflowed;
    g_batch_full += full->overflowed;
    full->overflowed = 0;
    report_drops(s, now);
    rl_batch_clear(full);
    apr_thread_mutex_lock(g_mutex);
    g_spare = full;
    apr_thread_mutex_unlock(g_mutex);
}

/* The flusher: sends a batch that no request came to send, RL_FLUSHER_AFTER_US after its
 * first line. With nothing pending it sleeps without a timeout, so an idle child costs no
 * wake-ups. */
static void *APR_THREAD_FUNC flusher(apr_thread_t *thread, void *data) {
    server_rec *s = data;
    apr_thread_mutex_lock(g_mutex);
    while (!g_stopping) {
        rl_batch *full;
        long long wait =
            rl_batch_flush_in(g_active, (unsigned long long)apr_time_now(), RL_FLUSHER_AFTER_US);
        if (wait < 0) {
            g_flusher_idle = 1;
            apr_thread_cond_wait(g_cond, g_mutex);
            g_flusher_idle = 0;
            continue;
        }
        if (wait > 0) {
            /* Requests may send this batch meanwhile; the next round looks again. */
            apr_thread_cond_timedwait(g_cond, g_mutex, (apr_interval_time_t)wait);
            continue;
        }
        full = take_if_due(0, 1);
        if (full == NULL) {
            /* A request thread is sending: it leaves the spare back soon. */
            apr_thread_mutex_unlock(g_mutex);
            apr_sleep(1000);
            apr_thread_mutex_lock(g_mutex);
            continue;
        }
        apr_thread_mutex_unlock(g_mutex);
        send_taken(s, full);
        apr_thread_mutex_lock(g_mutex);
    }
    apr_thread_mutex_unlock(g_mutex);
    apr_thread_exit(thread, APR_SUCCESS);
    return NULL;
}

/* Runs before the child pool's subpools (the thread's own) go: stop the flusher, then send
 * the last batch (no request runs anymore). */
static apr_status_t child_exit(void *data) {
    server_rec *s = data;
    apr_status_t rv;
    rl_batch *full;
    if (!g_ready) return APR_SUCCESS;
    apr_thread_mutex_lock(g_mutex);
    g_stopping = 1;
    g_ready = 0;
    apr_thread_cond_signal(g_cond);
    apr_thread_mutex_unlock(g_mutex);
    if (g_flusher) apr_thread_join(&rv, g_flusher);
    apr_thread_mutex_lock(g_mutex);
    full = take_if_due(0, 1);
    apr_thread_mutex_unlock(g_mutex);
    if (full) send_taken(s, full);
    if (g_sender.dropped || g_sender.sent)
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s,
                     "mod_reqin_log: child %ld exiting: %" APR_UINT64_T_FMT
                     " lines sent, %" APR_UINT64_T_FMT " dropped (%" APR_UINT64_T_FMT
                     " of them for a full batch, the rest for a full or closed socket)",
                     g_pid, (apr_uint64_t)g_sender.sent, (apr_uint64_t)g_sender.dropped,
                     (apr_uint64_t)g_batch_full);
    rl_sender_close(&g_sender);
    rl_batch_free(&g_batches[0]);
    rl_batch_free(&g_batches[1]);
    return APR_SUCCESS;
}

/* 1 when the MPM runs requests in threads (event, worker). */
static int mpm_threaded(void) {
    int threaded = AP_MPMQ_NOT_SUPPORTED;
    if (ap_mpm_query(AP_MPMQ_IS_THREADED, &threaded) != APR_SUCCESS) return 1;
    return threaded != AP_MPMQ_NOT_SUPPORTED;
}

static void child_init(apr_pool_t *pchild, server_rec *s) {
    rl_server_conf *c = server_conf(s);
    apr_status_t rv;
    server_rec *v;
    int any = 0;
    g_pid = (long)getpid();
    /* Nothing to log anywhere: no buffers, no thread. */
    for (v = s; v; v = v->next) any |= conf_enabled(server_conf(v));
    if (c->socket_path == NULL || !any) return;
    if (rl_batch_init(&g_batches[0], RL_BATCH_BYTES) != 0 ||
        rl_batch_init(&g_batches[1], RL_BATCH_BYTES) != 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s,
                     "mod_reqin_log: out of memory for the line buffers; logging disabled in "
                     "child %ld",
                     g_pid);
        return;
    }
    g_active = &g_batches[0];
    g_spare = &g_batches[1];
    rl_sender_init(&g_sender, c->socket_path);
    g_last_report_us = 0;
    g_reported_dropped = 0;
    g_batch_full = 0;
    g_stopping = 0;
    g_flusher_idle = 0;
    g_flusher = NULL;
    /*
     * A non-threaded MPM (prefork) gets no flusher thread: a second thread makes every child
     * multi-threaded, which made Apache's CPU per request ~4 % dearer in bench:apache (glibc
     * and the kernel take their multi-threaded paths on every syscall, lock and munmap).
     * There, a request sends the batch when it is due, and the end of each connection
     * (pre_close_connection) sends whatever is left: a line waits at most until its
     * connection's next request or its end. The mutex stays: mod_http2 runs streams in
     * threads even under prefork.
     */
    if ((rv = apr_thread_mutex_create(&g_mutex, APR_THREAD_MUTEX_DEFAULT, pchild)) != APR_SUCCESS ||
        (rv = apr_thread_cond_create(&g_cond, pchild)) != APR_SUCCESS ||
        (mpm_threaded() &&
         (rv = apr_thread_create(&g_flusher, NULL, flusher, s, pchild)) != APR_SUCCESS)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s,
                     "mod_reqin_log: cannot start the flusher thread; logging disabled in child "
                     "%ld",
                     g_pid);
        return;
    }
    g_ready = 1;
    apr_pool_pre_cleanup_register(pchild, s, child_exit);
}

/*
 * Writes the event's line straight into the active batch, under the mutex (the batch is the
 * child's, shared by its threads; writing a line takes a fraction of a microsecond), then
 * sends the batch from this thread if it is due: one non-blocking write, so a request never
 * waits for the reader. A line longer than the batch's free room (as the JSON writer reserves
 * it: for the worst case) is built on the heap and appended if it fits after all.
 *
 * Batch ages are counted in wall-clock time from the request's own start (ev->ts_us, which
 * Apache took when it read the request line): no clock read per request, which perf showed
 * as ~1/10 of the module's time under load (the call's code and the clock's data are cold).
 */
static void deliver(server_rec *s, const rl_event *ev) {
    unsigned long long now;
    rl_batch *full;
    rl_buf buf;
    int added = RL_BATCH_FULL;
    if (!g_ready) return;
    now = ev->ts_us ? ev->ts_us : (unsigned long long)apr_time_now();
    if (apr_thread_mutex_lock(g_mutex) != APR_SUCCESS) return;
    rl_buf_init_on(&buf, rl_batch_tail(g_active), rl_batch_room(g_active));
    rl_event_json(&buf, ev);
    if (buf.failed) {
        /* Out of memory for a line beyond the batch's room: dropped (the batch is intact). */
    } else if (!buf.owned) {
        added = rl_batch_commit(g_active, buf.len, now);
    } else {
        added = rl_batch_add(g_active, buf.data, buf.len, now);
    }
    rl_buf_free(&buf);
    if (added == RL_BATCH_FIRST && g_flusher_idle) apr_thread_cond_signal(g_cond);
    full = take_if_due(now, 0);
    apr_thread_mutex_unlock(g_mutex);
    if (full) send_taken(s, full);
}

/* ---- connections ------------------------------------------------------------------- */

/* Without a flusher thread (prefork): sends what the batch holds now. */
static void send_left(server_rec *s) {
    rl_batch *full;
    if (!g_ready || g_flusher != NULL) return;
    if (apr_thread_mutex_lock(g_mutex) != APR_SUCCESS) return;
    full = take_if_due(0, 1);
    apr_thread_mutex_unlock(g_mutex);
    if (full) send_taken(s, full);
}

/* Without a flusher thread (prefork), a connection's end sends what its requests left. */
static int pre_close_connection(conn_rec *c) {
    if (!c->master) send_left(c->base_server);
    return OK;
}

/* Paths a keep-alive HTTP/1 request does not take: out of the hot code's cache lines. */
#if defined(__GNUC__) || defined(__clang__)
#define RL_COLD __attribute__((noinline, cold))
#else
#define RL_COLD
#endif

RL_COLD static void sockaddr_text(apr_pool_t *p, apr_sockaddr_t *sa, const char **ip,
                                  unsigned *port) {
    char *text = NULL;
    *ip = "";
    *port = 0;
    if (sa == NULL) return;
    /* APR already prints IPv4-mapped IPv6 peers as plain IPv4, as the capture sees them. */
    if (apr_sockaddr_ip_get(&text, sa) == APR_SUCCESS && text) *ip = apr_pstrdup(p, text);
    *port = sa->port;
}

static rl_conn *conn_state(conn_rec *c) {
    conn_rec *primary = c->master ? c->master : c;
    return ap_get_module_config(primary->conn_config, &reqin_log_module);
}

static int pre_connection(conn_rec *c, void *csd) {
    rl_server_conf *conf = server_conf(c->base_server);
    rl_conn *rc;
    apr_sockaddr_t *remote = NULL, *local = NULL;
    if (c->master || !g_ready) return DECLINED;
    rc = apr_pcalloc(c->pool, sizeof(*rc));
    rc->tls = -1;
    /* The socket's own addresses: mod_remoteip's PROXY protocol support rewrites
     * c->client_addr, but the join key must be the TCP peer the capture sees. */
    if (csd != NULL) {
        apr_socket_addr_get(&remote, APR_REMOTE, csd);
        apr_socket_addr_get(&local, APR_LOCAL, csd);
    }
    sockaddr_text(c->pool, remote ? remote : c->client_addr, &rc->src_ip, &rc->src_port);
    sockaddr_text(c->pool, local ? local : c->local_addr, &rc->dst_ip, &rc->dst_port);
    {
        rl_buf b;
        rl_buf_init(&b, 160);
        rl_event_addr_json(&b, rc->src_ip, rc->src_port, rc->dst_ip, rc->dst_port);
        if (!b.failed) {
            rc->addr_json = apr_pmemdup(c->pool, b.data, b.len);
            rc->addr_json_len = b.len;
        }
        rl_buf_free(&b);
    }
    if (conf_enabled(conf) && g_wire_filter != NULL) {
        rc->wire = apr_palloc(c->pool, sizeof(*rc->wire));
        rl_wire_reset(rc->wire);
        rc->memo = apr_pcalloc(c->pool, sizeof(*rc->memo));
        ap_add_input_filter_handle(g_wire_filter, rc, NULL, c);
    }
    ap_set_module_config(c->conn_config, &reqin_log_module, rc);
    return OK;
}

/* Watches line-mode reads (request line and header fields) without changing them. */
static apr_status_t wire_filter(ap_filter_t *f, apr_bucket_brigade *bb, ap_input_mode_t mode,
                                apr_read_type_e block, apr_off_t readbytes) {
    rl_conn *rc = f->ctx;
    apr_bucket *before = APR_BRIGADE_EMPTY(bb) ? NULL : APR_BRIGADE_LAST(bb), *b;
    apr_status_t rv = ap_get_brigade(f->next, bb, mode, block, readbytes);
    if (rv != APR_SUCCESS || mode != AP_MODE_GETLINE || rc->wire == NULL ||
        rc->wire->state == RL_WIRE_DONE)
        return rv;
    b = before ? APR_BUCKET_NEXT(before) : APR_BRIGADE_FIRST(bb);
    /* The usual read: one data bucket holding one whole line. A line-mode read ends at the
     * first LF, and Apache's own parser (ap_rgetline) takes the read's last byte as the line's
     * end without looking for an earlier one: so do we, without a search. */
    if (b != APR_BRIGADE_SENTINEL(bb) && APR_BUCKET_NEXT(b) == APR_BRIGADE_SENTINEL(bb) &&
        !APR_BUCKET_IS_METADATA(b) && rc->wire->line_len == 0) {
        const char *data;
        apr_size_t len;
        if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) return rv;
        if (len > 0 && data[len - 1] == '\n')
            rl_wire_line(rc->wire, data, len - 1);
        else
            rl_wire_feed(rc->wire, data, len);
        return rv;
    }
    for (; b != APR_BRIGADE_SENTINEL(bb); b = APR_BUCKET_NEXT(b)) {
        const char *data;
        apr_size_t len;
        if (APR_BUCKET_IS_METADATA(b)) continue;
        if (apr_bucket_read(b, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) break;
        rl_wire_feed(rc->wire, data, len);
    }
    return rv;
}

static int create_request(request_rec *r) {
    rl_conn *rc;
    if (r->connection->master || r->main || r->prev) return DECLINED;
    rc = ap_get_module_config(r->connection->conn_config, &reqin_log_module);
    if (rc && rc->wire) rl_wire_reset(rc->wire);
    return DECLINED;
}

/* ---- requests ---------------------------------------------------------------------- */

static const char *protocol_name(const request_rec *r) {
    if (r->protocol == NULL) return "";
    /* mod_http2 says "HTTP/2.0"; the platform (and JA4H) name it "HTTP/2". */
    if (strcmp(r->protocol, "HTTP/2.0") == 0) return "HTTP/2";
    return r->protocol;
}

/* mod_ssl's variable `name`, allocated from `p` (whose life it then has), or NULL. */
static const char *tls_var(apr_pool_t *p, request_rec *r, conn_rec *c, const char *name) {
    const char *v;
#ifdef RL_HAVE_AP_SSL
    v = ap_ssl_var_lookup(p, r->server, c, r, name);
#else
    APR_OPTIONAL_FN_TYPE(ssl_var_lookup) *lookup = APR_RETRIEVE_OPTIONAL_FN(ssl_var_lookup);
    v = lookup ? lookup(p, r->server, c, r, (char *)name) : NULL;
#endif
    return (v && *v) ? v : NULL;
}

/* The TLS fields of a line: SNI, protocol and cipher, allocated from `p`. */
static void tls_fields(apr_pool_t *p, request_rec *r, conn_rec *c, const char **sni,
                       const char **protocol, const char **cipher) {
    *sni = tls_var(p, r, c, "SSL_TLS_SNI");
    *protocol = tls_var(p, r, c, "SSL_PROTOCOL");
    *cipher = tls_var(p, r, c, "SSL_CIPHER");
}

static int conn_is_tls(conn_rec *c) {
#ifdef RL_HAVE_AP_SSL
    return ap_ssl_conn_is_ssl(c);
#else
    APR_OPTIONAL_FN_TYPE(ssl_is_https) *is_https = APR_RETRIEVE_OPTIONAL_FN(ssl_is_https);
    return is_https ? is_https(c) : 0;
#endif
}

/* Header names from Apache's table, the fallback when the wire recorder has none (HTTP/2,
 * or a request rejected half-way through its headers). Repeated headers appear once. */
static const char **table_names(apr_pool_t *p, apr_table_t *t, size_t *n) {
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const char **names = apr_palloc(p, sizeof(char *) * (arr->nelts + 1));
    int i;
    size_t k = 0;
    for (i = 0; i < arr->nelts; i++)
        if (e[i].key) names[k++] = e[i].key;
    *n = k;
    return names;
}

/* The wire's header names as NUL-terminated strings, in one allocation. */
RL_COLD static const char **wire_names(apr_pool_t *p, const rl_wire *w) {
    const char **names = apr_palloc(p, sizeof(char *) * (w->n_names + 1));
    char *text = apr_palloc(p, w->json_len + 1), *o = text;
    size_t k;
    for (k = 0; k < w->n_names; k++) {
        size_t len;
        const char *name = rl_wire_name(w, k, &len);
        memcpy(o, name, len);
        o[len] = '\0';
        names[k] = o;
        o += len + 1;
    }
    return names;
}

/* The 8 bytes of `x` with ASCII capitals made lower-case (SWAR: a byte-wise range test). */
static inline apr_uint64_t lower8(apr_uint64_t x) {
    const apr_uint64_t ones = APR_UINT64_C(0x0101010101010101);
    apr_uint64_t low7 = x & (ones * 0x7f);
    apr_uint64_t from_a = low7 + ones * (0x80 - 'A'); /* high bit: byte >= 'A' */
    apr_uint64_t past_z = low7 + ones * (0x80 - 'Z' - 1); /* high bit: byte > 'Z' */
    apr_uint64_t upper = from_a & ~past_z & ~x & (ones * 0x80); /* ~x: not >= 0x80 */
    return x | (upper >> 2);
}

/* Compares the 8 bytes at `a` (any case) with those at `lower`. */
static inline int same8(const char *a, const char *lower) {
    apr_uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, lower, 8);
    return lower8(x) == y;
}

/* "cookie" for same_name, zero-padded to a whole word. */
static const char LOWER_COOKIE[8] = "cookie";

/*
 * Header name `a` equals the lower-case `lower` (both `n` bytes), ignoring ASCII case as
 * HTTP does (and without the locale that strcasecmp consults): 8 bytes per step, the last
 * step overlapping the one before it. `lower` must be readable for max(n, 8) bytes. A name of
 * fewer than 8 bytes is compared as one masked word when that word lies within a's page (the
 * bytes past its end then only fill the masked-out part).
 */
static inline int same_name(const char *a, const char *lower, size_t n) {
    size_t k;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n < 8 && ((size_t)a & 4095) <= 4096 - 8) {
        apr_uint64_t x, y, mask = (APR_UINT64_C(1) << (8 * n)) - 1; /* the first n bytes */
        memcpy(&x, a, 8);
        memcpy(&y, lower, 8);
        return ((lower8(x) ^ y) & mask) == 0;
    }
#endif
    if (n < 8) {
        for (k = 0; k < n; k++) {
            unsigned char c = (unsigned char)a[k];
            if (c >= 'A' && c <= 'Z') c |= 0x20;
            if (c != (unsigned char)lower[k]) return 0;
        }
        return 1;
    }
    for (k = 0; k + 8 < n; k += 8)
        if (!same8(a + k, lower + k)) return 0;
    return same8(a + n - 8, lower + n - 8);
}

/* Of `n_names` names: how many are "cookie" in any letter case, and exactly "Cookie". */
static void count_cookie_names(const char **names, size_t n_names, size_t *any, size_t *exact) {
    size_t k;
    *any = *exact = 0;
    for (k = 0; k < n_names; k++) {
        int field = rl_ja4h_cookie_field(names[k], strlen(names[k]));
        if (field) (*any)++;
        if (field == 2) (*exact)++;
    }
}

/*
 * Header names from Apache's table (HTTP/2, or no complete wire record), as JA4H reads them,
 * and how many are named "cookie" in any letter case / exactly "Cookie".
 */
RL_COLD static const char **table_header_names(request_rec *r, size_t *n, size_t *any,
                                               size_t *exact) {
    const char **names = table_names(r->pool, r->headers_in, n);
    if (r->proto_num >= 2000) {
        /* HTTP/2 names are lower-case on the wire; mod_http2 camel-cases them for its
         * HTTP/1-style table, so restore the wire form. */
        size_t k;
        for (k = 0; k < *n; k++) {
            char *low = apr_pstrdup(r->pool, names[k]);
            ap_str_tolower(low);
            names[k] = low;
        }
    }
    count_cookie_names(names, *n, any, exact);
    return names;
}

/*
 * The Cookie value JA4H hashes, as the engine reads it off the wire: over HTTP/1 only when a
 * header is named exactly "Cookie" (`exact` of them, `any` in any letter case), and only the
 * first such header (Apache merged repeats with ", "); over HTTP/2 every cookie field
 * (mod_http2 joined them with "; ").
 */
static const char *ja4h_cookie(request_rec *r, const char *merged, size_t any, size_t exact) {
    if (merged == NULL || r->proto_num >= 2000) return merged;
    if (exact == 0) return NULL;
    if (any <= 1) return merged; /* one field: nothing was merged into it */
    return apr_pstrndup(r->pool, merged, rl_ja4h_first_cookie_len(merged, any));
}

/*
 * The chosen headers' values (`values[i]` for `hc[i]`, NULL when absent) and the
 * Accept-Language and Cookie values JA4H needs, from one walk over the request's headers:
 * the first field of a name wins, as with apr_table_get, at a fraction of one lookup each.
 */
static void find_headers(const apr_table_t *t, const rl_header_set *set, const char **values,
                         const char **accept_language, const char **cookie) {
    const apr_array_header_t *arr = apr_table_elts(t);
    const apr_table_entry_t *e = (const apr_table_entry_t *)arr->elts;
    const rl_header_conf *hc = (const rl_header_conf *)set->list->elts;
    /* When both are among the chosen headers (the default), the walk finds them as such. */
    int own_al = set->accept_language < 0, own_cookie = set->cookie < 0;
    int i, j;
    *accept_language = NULL;
    *cookie = NULL;
    for (i = 0; i < set->list->nelts; i++) values[i] = NULL;
    for (j = 0; j < arr->nelts; j++) {
        size_t len;
        if (e[j].key == NULL) continue;
        len = strlen(e[j].key);
        if (len >= 8) {
            /* Names of equal length (accept-language, accept-encoding, x-forwarded-for) are
             * told apart by their first word, folded once per field; only a match compares
             * the rest. (Two loops on purpose: one loop choosing its compare per candidate
             * counted ~90 instructions more per request.) */
            apr_uint64_t head;
            memcpy(&head, e[j].key, 8);
            head = lower8(head);
            for (i = set->first[len_bucket(len)]; i >= 0; i = hc[i].next) {
                if (hc[i].len == len && hc[i].head8 == head && values[i] == NULL &&
                    (len == 8 || same_name(e[j].key + 8, hc[i].lower + 8, len - 8)))
                    values[i] = e[j].val;
            }
        } else {
            for (i = set->first[len_bucket(len)]; i >= 0; i = hc[i].next) {
                if (hc[i].len == len && values[i] == NULL &&
                    same_name(e[j].key, hc[i].lower, len))
                    values[i] = e[j].val;
            }
        }
        if (own_al && len == 15 && *accept_language == NULL &&
            same_name(e[j].key, "accept-language", 15))
            *accept_language = e[j].val;
        else if (own_cookie && len == 6 && *cookie == NULL && same_name(e[j].key, LOWER_COOKIE, 6))
            *cookie = e[j].val;
    }
    if (!own_al) *accept_language = values[set->accept_language];
    if (!own_cookie) *cookie = values[set->cookie];
}

/*
 * Asks for the cache lines where this request's line will be written, while its fields are
 * gathered: under load the batch's next bytes are never cached (the batch moves on by a line
 * per request), and perf showed the line's first stores there as a large part of the writer's
 * time. A hint only: the batch may change before the line is written (prefetch never faults).
 */
static void warm_batch_tail(void) {
#if defined(__GNUC__) || defined(__clang__)
    const rl_batch *b = __atomic_load_n(&g_active, __ATOMIC_RELAXED);
    const char *tail;
    int k;
    if (b == NULL || b->data == NULL) return;
    tail = b->data + __atomic_load_n(&b->len, __ATOMIC_RELAXED);
    for (k = 0; k < RL_WARM_LINE_BYTES; k += 64) __builtin_prefetch(tail + k, 1, 3);
#endif
}

static void log_request(request_rec *r, int status) {
    rl_server_conf *conf = server_conf(r->server);
    conn_rec *c = r->connection, *primary = c->master ? c->master : c;
    rl_conn *rc = conn_state(c);
    const rl_header_set *hset = conf_headers(conf);
    const apr_array_header_t *hconf = hset->list;
    const rl_header_conf *hc = (const rl_header_conf *)hconf->elts;
    /* The usual list fits on the stack, whose lines are warm (every request runs this deep),
     * not in fresh pool memory. */
    rl_header headers_here[RL_STACK_HEADERS];
    const char *values_here[RL_STACK_HEADERS];
    rl_header *headers = hconf->nelts < RL_STACK_HEADERS
                             ? headers_here
                             : apr_palloc(r->pool, sizeof(rl_header) * (hconf->nelts + 1));
    const char **values = hconf->nelts < RL_STACK_HEADERS
                              ? values_here
                              : apr_palloc(r->pool, sizeof(char *) * (hconf->nelts + 1));
    const char *accept_language, *cookie;
    const char **names;
    const rl_wire *wire = NULL; /* the names' source when they come from the wire */
    size_t n_names = 0, n_headers = 0, cookies_any, cookies_exact;
    char ja4h[RL_JA4H_MAX];
    rl_ja4h_input jin;
    rl_event ev;
    int i;

    warm_batch_tail();
    memset(&ev, 0, sizeof(ev));
    ev.ts_us = (unsigned long long)r->request_time;
    if (rc) {
        ev.addr_json = rc->addr_json;
        ev.addr_json_len = rc->addr_json_len;
        ev.src_ip = rc->src_ip;
        ev.src_port = rc->src_port;
        ev.dst_ip = rc->dst_ip;
        ev.dst_port = rc->dst_port;
        /* HTTP/2 streams of one connection count in parallel threads; an HTTP/1 connection's
         * requests come one after another on one thread (no locked instruction needed). */
        ev.conn_request_index = c->master ? (long)apr_atomic_inc32(&rc->requests)
                                          : (long)rc->requests++;
    } else {
        sockaddr_text(r->pool, primary->client_addr, &ev.src_ip, &ev.src_port);
        sockaddr_text(r->pool, primary->local_addr, &ev.dst_ip, &ev.dst_port);
        ev.conn_request_index = -1;
    }
    ev.method = r->method ? r->method : "";
    ev.host = r->hostname;
    ev.path = r->parsed_uri.path ? r->parsed_uri.path : (r->uri ? r->uri : "");
    ev.query = r->parsed_uri.query;
    ev.protocol = protocol_name(r);
    ev.status = status;
    /* A connection is TLS or not for its whole life: ask mod_ssl once per HTTP/1 connection
     * (HTTP/2 streams run in parallel threads: they ask every time). */
    if (rc && !c->master) {
        if (rc->tls < 0) {
            rc->tls = conn_is_tls(primary);
            if (rc->tls)
                tls_fields(c->pool, r, primary, &rc->tls_sni, &rc->tls_protocol, &rc->tls_cipher);
        }
        ev.tls_sni = rc->tls_sni;
        ev.tls_protocol = rc->tls_protocol;
        ev.tls_cipher = rc->tls_cipher;
    } else if (conn_is_tls(primary)) {
        tls_fields(r->pool, r, primary, &ev.tls_sni, &ev.tls_protocol, &ev.tls_cipher);
    }
    find_headers(r->headers_in, hset, values, &accept_language, &cookie);
    for (i = 0; i < hconf->nelts; i++) {
        if (values[i] == NULL) continue;
        headers[n_headers].name = hc[i].lower;
        headers[n_headers].value = values[i];
        headers[n_headers].presence_only = hc[i].presence_only;
        headers[n_headers].json_name = hc[i].json_name;
        headers[n_headers].json_name_len = hc[i].json_name_len;
        n_headers++;
    }
    ev.headers = headers;
    ev.n_headers = n_headers;

    ev.max_len = conf_max_len(conf);
    jin.names_key = NULL;
    jin.names_key_len = 0;
    if (!c->master && rc && rc->wire && rc->wire->state == RL_WIRE_DONE && !rc->wire->overflow) {
        wire = rc->wire;
        names = NULL; /* made from the wire's record only when needed, below */
        n_names = wire->n_names;
        cookies_any = wire->cookies_any;
        cookies_exact = wire->cookies_exact;
        /* The names as JSON, when each is its own JSON string and none would be cut. */
        if (wire->json_plain && (ev.max_len == 0 || wire->longest <= ev.max_len)) {
            ev.header_names_json = wire->json;
            ev.header_names_json_len = wire->json_len;
            jin.names_key = wire->json;
            jin.names_key_len = wire->json_len;
        }
    } else {
        names = table_header_names(r, &n_names, &cookies_any, &cookies_exact);
    }
    ev.pid = g_pid;
    if (r->useragent_ip && ev.src_ip && strcmp(r->useragent_ip, ev.src_ip) != 0)
        ev.client_ip = r->useragent_ip;

    jin.method = ev.method;
    jin.protocol = ev.protocol;
    jin.names = names;
    jin.n_names = n_names;
    jin.accept_language = accept_language;
    jin.cookie = ja4h_cookie(r, cookie, cookies_any, cookies_exact);
    if (r->method) {
        rl_ja4h_memo *memo = (!c->master && rc) ? rc->memo : NULL;
        int rv = 0;
        /* Keep-alive requests usually repeat the last one's inputs: then no names needed. */
        if (memo == NULL || jin.names_key == NULL || !rl_ja4h_memo_lookup(memo, &jin, ja4h)) {
            if (names == NULL) jin.names = names = wire_names(r->pool, wire);
            rv = memo ? rl_ja4h_cached(memo, &jin, ja4h) : rl_ja4h(&jin, ja4h);
        }
        if (rv == 0) ev.ja4h = ja4h;
    }
    if (ev.header_names_json == NULL && names == NULL) names = wire_names(r->pool, wire);
    ev.header_names = names;
    ev.n_header_names = n_names;

    deliver(r->server, &ev);
}

/* Marks a request as logged, so that log_transaction does not log it again. */
static int g_logged_marker;

static int post_read_request(request_rec *r) {
    if (!g_ready || r->main || r->prev || !conf_enabled(server_conf(r->server))) return DECLINED;
    ap_set_module_config(r->request_config, &reqin_log_module, &g_logged_marker);
    log_request(r, 0);
    return DECLINED;
}

static int log_transaction(request_rec *r) {
    if (!g_ready || r->main || r->prev || !conf_enabled(server_conf(r->server))) return DECLINED;
    if (ap_get_module_config(r->request_config, &reqin_log_module) == &g_logged_marker)
        return DECLINED;
    /* No request line at all (idle keep-alive close, timeout before any byte): not a
     * request, nothing to join. */
    if (r->the_request == NULL || *r->the_request == '\0') return DECLINED;
    log_request(r, r->status);
    /* A request Apache rejected ends its connection, and Apache may already have run
     * pre_close_connection (a request line it could not read): without a flusher thread,
     * send now rather than when this child next serves a request or exits. */
    send_left(r->server);
    return DECLINED;
}

static void register_hooks(apr_pool_t *p) {
    (void)p;
    g_wire_filter = ap_register_input_filter(RL_WIRE_FILTER, wire_filter, NULL,
                                             AP_FTYPE_CONNECTION);
    ap_hook_post_config(post_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_child_init(child_init, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_connection(pre_connection, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_create_request(create_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_pre_close_connection(pre_close_connection, NULL, NULL, APR_HOOK_MIDDLE);
    /* After mod_remoteip (APR_HOOK_FIRST) so that client_ip is known. */
    ap_hook_post_read_request(post_read_request, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_log_transaction(log_transaction, NULL, NULL, APR_HOOK_MIDDLE);
}

AP_DECLARE_MODULE(reqin_log) = {
    STANDARD20_MODULE_STUFF,
    NULL,               /* per-directory config creator */
    NULL,               /* per-directory config merger */
    create_server_conf, /* per-server config creator */
    merge_server_conf,  /* per-server config merger */
    rl_cmds,            /* directives */
    register_hooks,
};

/*
 * rl_event: one request as plain C values, and its JSON line (the HttpEvent of lib/events.ts).
 * The module fills an rl_event from the request_rec; this file knows nothing of Apache.
 */
#ifndef RL_EVENT_H
#define RL_EVENT_H

#include <stddef.h>

#include "rl_json.h"

/* One chosen header: output name (lower-case) and value; presence_only hides the value. */
typedef struct rl_header {
    const char *name;
    const char *value;
    int presence_only;
    /* The name already written as a JSON string (quotes included, see rl_json_name), or NULL:
     * the module prepares it once per configured header instead of escaping it per request. */
    const char *json_name;
    size_t json_name_len;
} rl_header;

/* Bytes kept of a chosen header's output name. */
#define RL_HEADER_NAME_MAX 256

/* Value written for a header logged by presence only (Cookie, Authorization). */
#define RL_PRESENT "present"

typedef struct rl_event {
    unsigned long long ts_us;      /* request start, microseconds since the epoch */
    /* The four address fields already written (rl_event_addr_json), or NULL: then written
     * from the four below. A connection's addresses are the same for all its requests. */
    const char *addr_json;
    size_t addr_json_len;
    const char *src_ip;            /* TCP peer: the join key with the capture */
    unsigned src_port;
    const char *dst_ip;
    unsigned dst_port;
    const char *method;
    const char *host;              /* NULL: omitted */
    const char *path;
    const char *query;             /* NULL: omitted */
    const char *protocol;
    int status;                    /* 0: unknown, omitted */
    const char *tls_sni;           /* NULL: omitted (likewise the other TLS fields) */
    const char *tls_protocol;
    const char *tls_cipher;
    const rl_header *headers;
    size_t n_headers;
    const char *const *header_names;
    size_t n_header_names;
    /* The same names already written as JSON array items (`"a","b"`, rl_wire's json), or
     * NULL: then header_names are escaped one by one. */
    const char *header_names_json;
    size_t header_names_json_len;
    long conn_request_index;       /* < 0: omitted */
    long pid;
    const char *client_ip;         /* NULL: omitted */
    const char *ja4h;              /* NULL: omitted */
    size_t max_len;                /* cap on each header value, path, query (0: none) */
} rl_event;

/* Appends the event as one JSON object followed by '\n'. */
void rl_event_json(rl_buf *b, const rl_event *e);

/* Appends the address fields (`,"src_ip":…,"dst_port":N`) as rl_event_json writes them. */
void rl_event_addr_json(rl_buf *b, const char *src_ip, unsigned src_port, const char *dst_ip,
                        unsigned dst_port);

#endif

/* rl_event: see rl_event.h. */
#include "rl_event.h"

#include <string.h>

/* Field prefixes are written as one literal (`,"name":`): keys are fixed ASCII. */
#define KEY(name) ",\"" name "\":", sizeof(",\"" name "\":") - 1

static void str_field(rl_buf *b, const char *key, size_t key_len, const char *v, size_t max) {
    rl_buf_put(b, key, key_len);
    rl_json_cstr(b, v, max);
}

static void opt_str_field(rl_buf *b, const char *key, size_t key_len, const char *v,
                          size_t max) {
    if (v != NULL) str_field(b, key, key_len, v, max);
}

static void uint_field(rl_buf *b, const char *key, size_t key_len, unsigned long long v) {
    rl_buf_put(b, key, key_len);
    rl_json_uint(b, v);
}

void rl_event_addr_json(rl_buf *b, const char *src_ip, unsigned src_port, const char *dst_ip,
                        unsigned dst_port) {
    str_field(b, KEY("src_ip"), src_ip, 64);
    uint_field(b, KEY("src_port"), src_port);
    str_field(b, KEY("dst_ip"), dst_ip, 64);
    uint_field(b, KEY("dst_port"), dst_port);
}

void rl_event_json(rl_buf *b, const rl_event *e) {
    size_t i;
    /* Fixed-size fields (addresses, protocol, TLS names) are short by nature; the limit
     * applies to what a client controls freely. Header names are capped too. */
    rl_buf_puts(b, "{\"type\":\"http\"");
    uint_field(b, KEY("ts_us"), e->ts_us);
    if (e->addr_json != NULL)
        rl_buf_put(b, e->addr_json, e->addr_json_len);
    else
        rl_event_addr_json(b, e->src_ip, e->src_port, e->dst_ip, e->dst_port);
    str_field(b, KEY("method"), e->method, e->max_len);
    opt_str_field(b, KEY("host"), e->host, e->max_len);
    str_field(b, KEY("path"), e->path, e->max_len);
    opt_str_field(b, KEY("query"), e->query, e->max_len);
    str_field(b, KEY("protocol"), e->protocol, 32);
    if (e->status > 0) uint_field(b, KEY("status"), (unsigned long long)e->status);
    opt_str_field(b, KEY("tls_sni"), e->tls_sni, 256);
    opt_str_field(b, KEY("tls_protocol"), e->tls_protocol, 64);
    opt_str_field(b, KEY("tls_cipher"), e->tls_cipher, 128);
    rl_buf_puts(b, ",\"headers\":{");
    for (i = 0; i < e->n_headers; i++) {
        const rl_header *h = &e->headers[i];
        if (i) rl_buf_putc(b, ',');
        if (h->json_name != NULL)
            rl_buf_put(b, h->json_name, h->json_name_len);
        else
            rl_json_cstr(b, h->name, RL_HEADER_NAME_MAX);
        rl_buf_putc(b, ':');
        if (h->presence_only)
            rl_buf_put(b, "\"" RL_PRESENT "\"", sizeof(RL_PRESENT) + 1);
        else
            rl_json_cstr(b, h->value, e->max_len);
    }
    rl_buf_puts(b, "},\"header_names\":[");
    if (e->header_names_json != NULL) {
        rl_buf_put(b, e->header_names_json, e->header_names_json_len);
    } else {
        for (i = 0; i < e->n_header_names; i++) {
            if (i) rl_buf_putc(b, ',');
            rl_json_cstr(b, e->header_names[i], e->max_len);
        }
    }
    rl_buf_putc(b, ']');
    if (e->conn_request_index >= 0)
        uint_field(b, KEY("conn_request_index"), (unsigned long long)e->conn_request_index);
    if (e->pid > 0) uint_field(b, KEY("pid"), (unsigned long long)e->pid);
    opt_str_field(b, KEY("client_ip"), e->client_ip, 64);
    opt_str_field(b, KEY("ja4h"), e->ja4h, 0);
    rl_buf_puts(b, "}\n");
}

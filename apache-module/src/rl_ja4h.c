/* rl_ja4h: see rl_ja4h.h. */
#include "rl_ja4h.h"

#include <stdlib.h>
#include <string.h>

#include "rl_json.h"
#include "rl_sha256.h"

typedef struct {
    const char *p;
    size_t n;
    size_t name_len; /* up to the first '=' */
    size_t index;    /* position in the header: ties keep it (a stable sort) */
} rl_span;

const char *rl_ja4h_version(const char *protocol) {
    if (protocol == NULL) return "00";
    if (strcmp(protocol, "HTTP/1.1") == 0) return "11";
    if (strcmp(protocol, "HTTP/1.0") == 0) return "10";
    if (strcmp(protocol, "HTTP/2") == 0 || strcmp(protocol, "HTTP/2.0") == 0) return "20";
    if (strcmp(protocol, "HTTP/3") == 0 || strcmp(protocol, "HTTP/3.0") == 0) return "30";
    return "00";
}

/* First 12 hex digits of SHA-256, or twelve zeros for empty input (FoxIO's convention). */
static void hash12(const char *s, size_t n, char *out) {
    char hex[65];
    if (n == 0) {
        memcpy(out, "000000000000", 12);
        return;
    }
    rl_sha256_hex(s, n, hex);
    memcpy(out, hex, 12);
}

static char ascii_lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

/*
 * Primary language: leading blanks skipped, bytes up to the first ',', '-' removed, ASCII
 * lower-cased, then 4 bytes ('0'-padded) — byte-wise like the platform's engine (core-wasm).
 * Writes 4 bytes to out and returns 4.
 */
static size_t language4(const char *lang, char *out) {
    size_t w = 0;
    const char *s = lang ? lang : "";
    while (*s == ' ' || *s == '\t') s++;
    for (; *s && *s != ',' && w < 4; s++) {
        if (*s == '-') continue;
        out[w++] = ascii_lower(*s);
    }
    while (w < 4) out[w++] = '0';
    return w;
}

/* Orders cookies by name, byte-wise; equal names keep their order (FoxIO's Python reference
 * and the platform's engine sort by name, stably). */
static int span_cmp(const void *a, const void *b) {
    const rl_span *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->p, y->p, n);
    if (c != 0) return c;
    if (x->name_len != y->name_len) return x->name_len < y->name_len ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Splits the Cookie value on "; " (FoxIO's rule), sorts by name, hashes names and pairs. */
static int cookie_hashes(const char *cookie, char *c_out, char *d_out) {
    rl_span *parts;
    size_t n = 1, i;
    const char *p;
    rl_buf names, items;
    if (cookie == NULL) {
        hash12("", 0, c_out);
        hash12("", 0, d_out);
        return 0;
    }
    for (p = cookie; (p = strstr(p, "; ")) != NULL; p += 2) n++;
    parts = malloc(n * sizeof(*parts));
    if (parts == NULL) return -1;
    p = cookie;
    for (i = 0; i < n; i++) {
        const char *e = strstr(p, "; ");
        size_t len = e ? (size_t)(e - p) : strlen(p);
        parts[i].p = p;
        parts[i].n = len;
        parts[i].index = i;
        for (parts[i].name_len = 0; parts[i].name_len < len && p[parts[i].name_len] != '=';
             parts[i].name_len++) {
        }
        p += len + 2;
    }
    qsort(parts, n, sizeof(*parts), span_cmp);
    rl_buf_init(&names, 256);
    rl_buf_init(&items, 512);
    for (i = 0; i < n; i++) {
        if (i) {
            rl_buf_putc(&names, ',');
            rl_buf_putc(&items, ',');
        }
        rl_buf_put(&names, parts[i].p, parts[i].name_len);
        rl_buf_put(&items, parts[i].p, parts[i].n);
    }
    free(parts);
    if (names.failed || items.failed) {
        rl_buf_free(&names);
        rl_buf_free(&items);
        return -1;
    }
    hash12(names.data, names.len, c_out);
    hash12(items.data, items.len, d_out);
    rl_buf_free(&names);
    rl_buf_free(&items);
    return 0;
}

int rl_ja4h(const rl_ja4h_input *in, char out[RL_JA4H_MAX]) {
    const char *cookie_name = "Cookie", *referer_name = "Referer";
    const char *version = rl_ja4h_version(in->protocol);
    int has_cookie = 0, has_referer = 0;
    size_t counted = 0, i, w = 0;
    rl_buf joined;
    const char *m = in->method ? in->method : "";

    if (strcmp(version, "20") == 0 || strcmp(version, "30") == 0) {
        cookie_name = "cookie";
        referer_name = "referer";
    }
    rl_buf_init(&joined, 512);
    for (i = 0; i < in->n_names; i++) {
        const char *name = in->names[i];
        if (strcmp(name, cookie_name) == 0) {
            has_cookie = 1;
            continue;
        }
        if (strcmp(name, referer_name) == 0) {
            has_referer = 1;
            continue;
        }
        if (counted++) rl_buf_putc(&joined, ',');
        rl_buf_puts(&joined, name);
    }
    if (joined.failed) {
        rl_buf_free(&joined);
        return -1;
    }
    if (counted > 99) counted = 99;

    out[w++] = m[0] ? ascii_lower(m[0]) : '0';
    out[w++] = (m[0] && m[1]) ? ascii_lower(m[1]) : '0';
    out[w++] = version[0];
    out[w++] = version[1];
    out[w++] = has_cookie ? 'c' : 'n';
    out[w++] = has_referer ? 'r' : 'n';
    out[w++] = (char)('0' + counted / 10);
    out[w++] = (char)('0' + counted % 10);
    w += language4(in->accept_language, out + w);
    out[w++] = '_';
    hash12(joined.data, joined.len, out + w);
    w += 12;
    rl_buf_free(&joined);
    out[w++] = '_';
    out[w + 12] = '_';
    if (cookie_hashes(in->cookie, out + w, out + w + 13) != 0) return -1;
    w += 25;
    out[w] = '\0';
    return 0;
}

/* Appends a field and a separator byte no HTTP field contains (0x01) to the key; 0 when full. */
static int key_add(char *key, size_t *len, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if (*len + n + 1 > RL_JA4H_MEMO_KEY) return 0;
    memcpy(key + *len, s ? s : "", n);
    *len += n;
    key[(*len)++] = s ? '\x01' : '\x02'; /* absent differs from empty */
    return 1;
}

/* The memo's key for `in`: its length, or 0 when the inputs do not fit. */
static size_t memo_key(const rl_ja4h_input *in, char key[RL_JA4H_MEMO_KEY]) {
    size_t len = 0, i;
    int ok = key_add(key, &len, in->method) && key_add(key, &len, in->protocol) &&
             key_add(key, &len, in->accept_language) && key_add(key, &len, in->cookie);
    if (ok && in->names_key != NULL) {
        /* Tagged by 0x03, a byte no name list key holds, so the two forms never meet. */
        ok = len + 1 + in->names_key_len <= RL_JA4H_MEMO_KEY;
        if (ok) {
            key[len++] = '\x03';
            memcpy(key + len, in->names_key, in->names_key_len);
            len += in->names_key_len;
        }
    }
    for (i = 0; ok && in->names_key == NULL && i < in->n_names; i++)
        ok = key_add(key, &len, in->names[i]);
    return ok ? len : 0;
}

/* The key field at *k equals key_add's form of `s`: then *k moves past it. */
static int key_field_equals(const char **k, const char *end, const char *s) {
    size_t n = s ? strlen(s) : 0;
    if ((size_t)(end - *k) < n + 1 || (n && memcmp(*k, s, n) != 0) ||
        (*k)[n] != (s ? '\x01' : '\x02'))
        return 0;
    *k += n + 1;
    return 1;
}

int rl_ja4h_memo_lookup(const rl_ja4h_memo *m, const rl_ja4h_input *in, char out[RL_JA4H_MAX]) {
    /* The memo's key compared with memo_key(in) piece by piece, without building the latter. */
    const char *k = m->key, *end = m->key + m->key_len;
    if (in->names_key == NULL || m->key_len == 0) return 0;
    if (!key_field_equals(&k, end, in->method) || !key_field_equals(&k, end, in->protocol) ||
        !key_field_equals(&k, end, in->accept_language) || !key_field_equals(&k, end, in->cookie))
        return 0;
    if ((size_t)(end - k) != 1 + in->names_key_len || *k != '\x03' ||
        memcmp(k + 1, in->names_key, in->names_key_len) != 0)
        return 0;
    memcpy(out, m->value, RL_JA4H_MAX);
    return 1;
}

int rl_ja4h_cached(rl_ja4h_memo *m, const rl_ja4h_input *in, char out[RL_JA4H_MAX]) {
    char key[RL_JA4H_MEMO_KEY];
    size_t len = memo_key(in, key);
    if (len == 0) return rl_ja4h(in, out);
    if (m->key_len == len && memcmp(m->key, key, len) == 0) {
        memcpy(out, m->value, RL_JA4H_MAX);
        return 0;
    }
    if (rl_ja4h(in, out) != 0) return -1;
    memcpy(m->key, key, len);
    m->key_len = len;
    memcpy(m->value, out, RL_JA4H_MAX);
    return 0;
}

size_t rl_ja4h_first_cookie_len(const char *merged, size_t cookie_headers) {
    const char *cut;
    if (merged == NULL) return 0;
    if (cookie_headers > 1 && (cut = strstr(merged, ", ")) != NULL) return (size_t)(cut - merged);
    return strlen(merged);
}

/*
 * rl_ja4h: the JA4H HTTP client fingerprint, computed inside Apache so that HTTPS requests
 * (which the capture cannot read) get the same fingerprint as plain HTTP ones.
 *
 * JA4H is FoxIO's (FoxIO License 1.1), spec: technical_details/JA4H.md in FoxIO-LLC/ja4.
 * Layout: a_b_c_d where
 *   a = method (2, lower) + version (10/11/20/30) + 'c'|'n' (Cookie) + 'r'|'n' (Referer)
 *       + header count without Cookie/Referer (2 digits, max 99) + first Accept-Language
 *       tag without '-' lower-cased, cut or '0'-padded to 4 characters;
 *   b = sha256_12(header names in wire order, without Cookie/Referer, joined by ',');
 *   c = sha256_12(cookie names of the cookies sorted by name, joined by ',');
 *   d = sha256_12(those "name=value" cookies in the same order, joined by ',').
 * sha256_12 of nothing is "000000000000". Cookies are the Cookie value split on "; ".
 * Where FoxIO's references differ, this follows the platform's engine (core-wasm), so that a
 * request fingerprints the same from a capture and from Apache: Cookie/Referer matched by exact
 * name ("Cookie", "Referer") over HTTP/1.x and lower-case over HTTP/2; cookies sorted by name,
 * stably; the language cut byte-wise.
 */
#ifndef RL_JA4H_H
#define RL_JA4H_H

#include <stddef.h>
#include <string.h>

/* Room for any JA4H: 12-byte head + 3 x 13 (with room to spare). */
#define RL_JA4H_MAX 96

typedef struct rl_ja4h_input {
    const char *method;           /* "GET" */
    const char *protocol;         /* "HTTP/1.1", "HTTP/2" */
    const char *const *names;     /* request header names in wire order, as sent */
    size_t n_names;
    const char *accept_language;  /* NULL when absent */
    const char *cookie;           /* the Cookie header value, NULL when absent */
    /* Optional: bytes that stand for `names` exactly, one to one (rl_wire's JSON items), so
     * the memo compares them at once instead of name by name. NULL: none. */
    const char *names_key;
    size_t names_key_len;
} rl_ja4h_input;

/*
 * What a header field named `name` (n bytes) is to JA4H over HTTP/1: 2 when it is exactly
 * "Cookie" (the field JA4H reads), 1 when it is "cookie" in another letter case (a Cookie
 * field to Apache, which merges it with the others, but not to JA4H), else 0.
 */
static inline int rl_ja4h_cookie_field(const char *name, size_t n) {
    size_t k;
    if (n != 6) return 0;
    for (k = 0; k < 6; k++)
        if ((name[k] | 0x20) != "cookie"[k]) return 0;
    return memcmp(name, "Cookie", 6) == 0 ? 2 : 1;
}

/*
 * The part of Apache's merged Cookie value that JA4H uses: over HTTP/1 only the first Cookie
 * header counts, and Apache joins repeated headers with ", " (which a cookie never contains).
 */
size_t rl_ja4h_first_cookie_len(const char *merged, size_t cookie_headers);

/* Writes the JA4H string into out (NUL-terminated). Returns 0, or -1 when out of memory. */
int rl_ja4h(const rl_ja4h_input *in, char out[RL_JA4H_MAX]);

/*
 * A one-entry memo: keep-alive clients usually repeat the same header set, cookies and
 * language on every request of a connection, so the three SHA-256s are skipped when the
 * inputs equal the previous request's. Inputs longer than RL_JA4H_MEMO_KEY are not memoized.
 */
#define RL_JA4H_MEMO_KEY 1024

typedef struct rl_ja4h_memo {
    size_t key_len; /* 0: empty */
    char key[RL_JA4H_MEMO_KEY];
    char value[RL_JA4H_MAX];
} rl_ja4h_memo;

/* rl_ja4h through the memo (which must start zeroed). Same result as rl_ja4h. */
int rl_ja4h_cached(rl_ja4h_memo *m, const rl_ja4h_input *in, char out[RL_JA4H_MAX]);
/*
 * Only the memo's answer: 1 with `out` written when `in` equals the memo's last input, else 0.
 * For inputs with a names_key (0 without one), so `names` are not read: a caller may build
 * them only on a miss.
 */
int rl_ja4h_memo_lookup(const rl_ja4h_memo *m, const rl_ja4h_input *in, char out[RL_JA4H_MAX]);

/* The version digits JA4H uses for a protocol string: "10", "11", "20", "30", else "00". */
const char *rl_ja4h_version(const char *protocol);

#endif

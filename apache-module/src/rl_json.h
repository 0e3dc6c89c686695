/*
 * rl_json: a growable byte buffer and the JSON string writer of mod_reqin_log.
 *
 * Pure C (no Apache, no APR) so the cmocka unit tests exercise exactly what the module runs.
 * The writer produces valid JSON for any input bytes: control characters are escaped,
 * invalid UTF-8 becomes U+FFFD, and a value longer than its limit is cut on a character
 * boundary and ends with RL_TRUNC_MARKER.
 */
#ifndef RL_JSON_H
#define RL_JSON_H

#include <stddef.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* A byte a JSON string holds as it is: printable ASCII other than '"' and '\\'. Every other
 * byte is escaped, or checked as UTF-8. */
static inline int rl_json_plain_byte(unsigned char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
}

#if defined(__SSE2__)
/* Bit k set when byte k of `x` is not rl_json_plain_byte: below 0x20 or from 0x80 up (one
 * signed compare catches both), '"', '\\' or DEL. */
static inline unsigned rl_json_special16(__m128i x) {
    __m128i m = _mm_cmplt_epi8(x, _mm_set1_epi8(0x20));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('"')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8('\\')));
    m = _mm_or_si128(m, _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7f)));
    return (unsigned)_mm_movemask_epi8(m);
}
#endif

/* Appended (inside the quotes) to a value cut at its length limit. */
#define RL_TRUNC_MARKER "...[truncated]"

/* A growable buffer; `failed` is set once an allocation fails (the line is then dropped). */
typedef struct rl_buf {
    char *data;
    size_t len;
    size_t cap;
    int failed;
    int owned; /* data came from malloc (else it is the caller's, see rl_buf_init_on) */
} rl_buf;

/* Starts an empty buffer with `cap` bytes reserved (0 picks a default). */
void rl_buf_init(rl_buf *b, size_t cap);
/*
 * Starts an empty buffer on the caller's `mem` (`cap` bytes, e.g. from a request pool): no
 * allocation while the content fits; growing beyond moves it to malloc'ed storage (freed by
 * rl_buf_free). `mem` is never freed or written past `cap`.
 */
void rl_buf_init_on(rl_buf *b, char *mem, size_t cap);
/* Frees the storage (if it is the buffer's own); the buffer may be initialised again. */
void rl_buf_free(rl_buf *b);
/* Makes room for `extra` more bytes (growing the storage): 1, or 0 once an allocation failed. */
int rl_buf_reserve(rl_buf *b, size_t extra);

/* The appends are inline: a line is ~60 of them, and the room check is all they usually do. */

/* Appends `n` raw bytes. */
static inline void rl_buf_put(rl_buf *b, const char *s, size_t n) {
    if (n == 0 || b->failed) return;
    if (b->cap - b->len < n && !rl_buf_reserve(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

/* Appends a NUL-terminated raw string. */
static inline void rl_buf_puts(rl_buf *b, const char *s) { rl_buf_put(b, s, strlen(s)); }

/* Appends one raw byte. */
static inline void rl_buf_putc(rl_buf *b, char c) {
    if (b->failed) return;
    if (b->cap == b->len && !rl_buf_reserve(b, 1)) return;
    b->data[b->len++] = c;
}

/*
 * Appends `s[0..n)` as a quoted JSON string. `max_bytes` bounds how many input bytes are
 * kept (0 = no limit); a longer value is cut at a UTF-8 character boundary at or below the
 * limit and RL_TRUNC_MARKER is appended. Returns 1 when the value was truncated, else 0.
 */
int rl_json_string(rl_buf *b, const char *s, size_t n, size_t max_bytes);
/* Same for a NUL-terminated string; NULL is written as "". */
int rl_json_cstr(rl_buf *b, const char *s, size_t max_bytes);
/* Appends an unsigned decimal number. */
void rl_json_uint(rl_buf *b, unsigned long long v);
/* Appends `"key":` (keys are trusted ASCII literals chosen by the module). */
void rl_json_key(rl_buf *b, const char *key);

/*
 * Length of the valid UTF-8 sequence at `s` (1..4), or 0 when the bytes at `s` do not start
 * a well-formed sequence (Unicode 15, table 3-7: no overlongs, no surrogates, <= U+10FFFF).
 */
size_t rl_utf8_seq_len(const unsigned char *s, size_t avail);

#endif

/* rl_json: see rl_json.h. */
#include "rl_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* SSE2 is part of x86-64; elsewhere (or with -DRL_JSON_PORTABLE, which the unit tests build
 * too) the writer scans 8 bytes at a time in plain C. */
#if defined(__SSE2__) && !defined(RL_JSON_PORTABLE)
#define RL_JSON_SSE2 1
#endif

#define RL_BUF_DEFAULT_CAP 2048

void rl_buf_init(rl_buf *b, size_t cap) {
    b->len = 0;
    b->failed = 0;
    b->cap = cap ? cap : RL_BUF_DEFAULT_CAP;
    b->data = malloc(b->cap);
    b->owned = 1;
    if (b->data == NULL) {
        b->cap = 0;
        b->failed = 1;
    }
}

void rl_buf_init_on(rl_buf *b, char *mem, size_t cap) {
    b->data = mem;
    b->len = 0;
    b->cap = mem ? cap : 0;
    b->failed = 0;
    b->owned = 0;
}

void rl_buf_free(rl_buf *b) {
    if (b->owned) free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->owned = 0;
}

/* Makes room for `extra` more bytes; doubling keeps appends amortised O(1). */
int rl_buf_reserve(rl_buf *b, size_t extra) {
    size_t need, cap;
    char *p;
    if (b->failed) return 0;
    need = b->len + extra;
    if (need <= b->cap) return 1;
    cap = b->cap ? b->cap : RL_BUF_DEFAULT_CAP;
    while (cap < need) cap *= 2;
    if (b->owned) {
        p = realloc(b->data, cap);
    } else {
        /* Borrowed storage cannot be resized: move to our own. */
        p = malloc(cap);
        if (p != NULL && b->len) memcpy(p, b->data, b->len);
    }
    if (p == NULL) {
        b->failed = 1;
        return 0;
    }
    b->owned = 1;
    b->data = p;
    b->cap = cap;
    return 1;
}

size_t rl_utf8_seq_len(const unsigned char *s, size_t avail) {
    unsigned char c = s[0];
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n, i;
    if (c < 0x80) return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0) lo = 0xA0;      /* overlong */
        if (c == 0xED) hi = 0x9F;      /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0) lo = 0x90;      /* overlong */
        if (c == 0xF4) hi = 0x8F;      /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n) return 0;
    if (s[1] < lo || s[1] > hi) return 0;
    for (i = 2; i < n; i++) {
        if (s[i] < 0x80 || s[i] > 0xBF) return 0;
    }
    return n;
}

static const char HEX[] = "0123456789abcdef";

#ifndef RL_JSON_SSE2
/*
 * 1 when none of the 8 bytes at `s` needs escaping or UTF-8 checks: no byte below 0x20, none
 * equal to '"', '\\' or DEL, none at 0x80 or above (SWAR: a byte-wise test on one 64-bit word,
 * the classic "has a byte less than n" and "has a zero byte" formulas).
 */
static int plain8(const unsigned char *s) {
    const unsigned long long ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    unsigned long long x, special;
    memcpy(&x, s, 8);
    special = (x - ones * 0x20) & ~x;                         /* bytes < 0x20 (or >= 0x80) */
    special |= ((x ^ (ones * '"')) - ones) & ~(x ^ (ones * '"'));   /* bytes == '"' */
    special |= ((x ^ (ones * '\\')) - ones) & ~(x ^ (ones * '\\')); /* bytes == '\\' */
    special |= ((x ^ (ones * 0x7f)) - ones) & ~(x ^ (ones * 0x7f)); /* bytes == DEL */
    special |= x;                                             /* bytes >= 0x80 */
    return (special & high) == 0;
}
#endif

/* Where escape_one left the output, and how many input bytes it consumed. */
typedef struct {
    char *o;
    size_t used; /* 0: a UTF-8 character would cross the limit (the caller stops there) */
} rl_escaped;

/*
 * Writes the byte at s[i], which is not plain, at `o`. Returned by value (two registers), so
 * the callers' output pointer never has its address taken and stays in a register.
 */
#if defined(__GNUC__) || defined(__clang__)
/* Rare in real values: kept out of line so the scanning loops stay small in the i-cache. */
__attribute__((noinline, cold))
#endif
static rl_escaped escape_one(char *o, const unsigned char *s, size_t i, size_t n,
                             size_t limit) {
    unsigned char c = s[i];
    rl_escaped r;
    size_t len;
    r.used = 1;
    if (c < 0x80) {
        switch (c) {
        case '"': o[0] = '\\'; o[1] = '"'; o += 2; break;
        case '\\': o[0] = '\\'; o[1] = '\\'; o += 2; break;
        case '\b': o[0] = '\\'; o[1] = 'b'; o += 2; break;
        case '\f': o[0] = '\\'; o[1] = 'f'; o += 2; break;
        case '\n': o[0] = '\\'; o[1] = 'n'; o += 2; break;
        case '\r': o[0] = '\\'; o[1] = 'r'; o += 2; break;
        case '\t': o[0] = '\\'; o[1] = 't'; o += 2; break;
        default: /* other controls and DEL */
            o[0] = '\\'; o[1] = 'u'; o[2] = '0'; o[3] = '0';
            o[4] = HEX[c >> 4]; o[5] = HEX[c & 15];
            o += 6;
        }
        r.o = o;
        return r;
    }
    len = rl_utf8_seq_len(s + i, n - i);
    if (len == 0) {
        /* One replacement character per invalid byte: simple and never loses sync. */
        memcpy(o, "\\ufffd", 6);
        r.o = o + 6;
        return r;
    }
    r.o = o;
    r.used = 0;
    if (i + len > limit) return r; /* the cut falls inside a character: stop before it */
    memcpy(o, s + i, len);
    r.o = o + len;
    r.used = len;
    return r;
}

#ifdef RL_JSON_SSE2
/*
 * The 16 bytes at `s`, of which fewer may belong to the string: the caller made sure they lie
 * in one page (a page is mapped whole, so the load cannot fault) and ignores the bytes past
 * the string's end. This is how optimised string functions scan; AddressSanitizer would call
 * it an overflow, so it is not instrumented.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((no_sanitize_address))
#endif
static __m128i load_within_page(const unsigned char *s) {
    return _mm_loadu_si128((const __m128i *)(const void *)s);
}

/* The 16-byte load at `s` stays within its page. */
static inline int block_fits_page(const unsigned char *s) {
    return ((size_t)s & 4095) <= 4096 - 16;
}
#endif

/* Ends a string written up to `o`: the marker if it was cut, the closing quote, the length. */
static inline int close_string(rl_buf *b, char *o, int truncated) {
    if (truncated) {
        memcpy(o, RL_TRUNC_MARKER, sizeof(RL_TRUNC_MARKER) - 1);
        o += sizeof(RL_TRUNC_MARKER) - 1;
    }
    *o++ = '"';
    b->len = (size_t)(o - b->data);
    return truncated;
}

int rl_json_string(rl_buf *b, const char *str, size_t n, size_t max_bytes) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, limit = n, need;
    int truncated = 0;
    char *o;
    rl_escaped esc;
    if (max_bytes && n > max_bytes) {
        limit = max_bytes;
        truncated = 1;
    }
    /* Worst case is 6 output bytes per input byte, and a block store may write 16 bytes
     * past the last byte kept: reserving once keeps the loops free of checks. */
    need = limit * 6 + sizeof(RL_TRUNC_MARKER) + 2 + 16;
    if (b->failed || (b->cap - b->len < need && !rl_buf_reserve(b, need))) return truncated;
    /* The output position lives in a local: stores through char pointers may alias the
     * buffer's own fields, which would otherwise be reloaded after every byte. */
    o = b->data + b->len;
    *o++ = '"';
    /* Whole blocks of plain bytes are copied at once; a block with a special byte keeps
     * what precedes it and the byte is written on its own. */
#ifdef RL_JSON_SSE2
    while (i < limit) {
        size_t left = limit - i;
        unsigned mask;
        __m128i x;
        if (left >= 16) {
            x = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
            mask = rl_json_special16(x);
        } else if (block_fits_page(s + i)) {
            /* The last bytes: a whole block is loaded and stored, its bytes past the string
             * count as special so the run ends there (the 16 stored bytes fit the room
             * reserved; those past the run are overwritten or left beyond the length). */
            x = load_within_page(s + i);
            mask = rl_json_special16(x) | (0xFFFFu << left);
        } else {
            break; /* the byte loop below finishes a tail that ends a page */
        }
        _mm_storeu_si128((__m128i *)(void *)o, x);
        if (mask == 0) {
            o += 16;
            i += 16;
            continue;
        }
        {
            size_t used = (size_t)__builtin_ctz(mask);
            o += used;
            i += used;
        }
        if (i >= limit) break;
        esc = escape_one(o, s, i, n, limit);
        o = esc.o;
        if (esc.used == 0) goto cut;
        i += esc.used;
    }
#else
    while (limit - i >= 8) {
        if (plain8(s + i)) {
            memcpy(o, s + i, 8);
            o += 8;
            i += 8;
            continue;
        }
        while (rl_json_plain_byte(s[i])) *o++ = (char)s[i++];
        esc = escape_one(o, s, i, n, limit);
        o = esc.o;
        if (esc.used == 0) goto cut;
        i += esc.used;
    }
#endif
    while (i < limit) {
        if (rl_json_plain_byte(s[i])) {
            *o++ = (char)s[i++];
            continue;
        }
        esc = escape_one(o, s, i, n, limit);
        o = esc.o;
        if (esc.used == 0) break;
        i += esc.used;
    }
cut:
    return close_string(b, o, truncated);
}

#ifdef RL_JSON_SSE2
/*
 * rl_json_string for a NUL-terminated string, without a strlen pass first: the NUL is one of
 * the special bytes the escaping scan stops at anyway. Blocks are loaded only within a page.
 */
#if defined(__GNUC__) || defined(__clang__)
__attribute__((noinline)) /* keeps rl_json_cstr's usual path free of its stack frame */
#endif
static int json_cstr_sse2(rl_buf *b, const unsigned char *s, size_t max_bytes) {
    /* Room for one step: 16 input bytes may become 96 output bytes, plus the store slack, the
     * marker and the closing quote. */
    const size_t step_room = 16 * 6 + 16 + sizeof(RL_TRUNC_MARKER) + 2;
    size_t i = 0, used, limit = max_bytes ? max_bytes : (size_t)-1;
    int truncated = 0;
    char *o, *room_end;
    rl_escaped esc;
    if (b->failed || (b->cap - b->len < step_room + 1 && !rl_buf_reserve(b, step_room + 1)))
        return 0;
    o = b->data + b->len;
    room_end = b->data + b->cap - step_room; /* a step may start up to here */
    *o++ = '"';
    for (;;) {
        unsigned mask;
        __m128i x;
        if (o > room_end) {
            b->len = (size_t)(o - b->data);
            if (!rl_buf_reserve(b, step_room)) return 0;
            o = b->data + b->len;
            room_end = b->data + b->cap - step_room;
        }
        if (i >= limit) {
            truncated = s[i] != 0;
            break;
        }
        if (!block_fits_page(s + i)) {
            /* A block here would cross into the next page: one byte at a time up to it. */
            if (s[i] == 0) break;
            if (rl_json_plain_byte(s[i])) {
                *o++ = (char)s[i++];
                continue;
            }
            esc = escape_one(o, s, i, (size_t)-1, limit);
            o = esc.o;
            if (esc.used == 0) {
                truncated = 1;
                break;
            }
            i += esc.used;
            continue;
        }
        x = load_within_page(s + i);
        mask = rl_json_special16(x);
        if (limit - i < 16) mask |= 0xFFFFu << (limit - i);
        _mm_storeu_si128((__m128i *)(void *)o, x);
        if (mask == 0) {
            o += 16;
            i += 16;
            continue;
        }
        used = (size_t)__builtin_ctz(mask);
        o += used;
        i += used;
        if (i >= limit) continue; /* decided at the top of the loop */
        if (s[i] == 0) break;
        /* n is unknown: escape_one's UTF-8 check stops at the NUL, an invalid continuation. */
        esc = escape_one(o, s, i, (size_t)-1, limit);
        o = esc.o;
        if (esc.used == 0) {
            truncated = 1; /* a character crosses the limit: more bytes follow */
            break;
        }
        i += esc.used;
    }
    return close_string(b, o, truncated);
}
#endif

int rl_json_cstr(rl_buf *b, const char *s, size_t max_bytes) {
#ifdef RL_JSON_SSE2
    /*
     * Most values are plain bytes up to their NUL, within a page, with room in the buffer:
     * written here block by block, with few enough live values that this leaf function needs
     * no stack frame. Anything else starts over in json_cstr_sse2 (nothing is committed here
     * before the end).
     */
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0, room;
    char *o;
    if (s == NULL || b->failed) goto general;
    o = b->data + b->len;
    room = b->cap - b->len;
    for (;;) {
        __m128i x;
        unsigned mask;
        /* The opening quote, i bytes, a 16-byte store and the closing quote fit. */
        if (!block_fits_page(u + i) || room < i + 18) goto general;
        x = load_within_page(u + i);
        mask = rl_json_special16(x); /* the NUL is special too (below 0x20) */
        _mm_storeu_si128((__m128i *)(void *)(o + 1 + i), x);
        if (mask != 0) {
            i += (size_t)__builtin_ctz(mask);
            if (u[i] != 0) goto general;
            break;
        }
        i += 16;
    }
    if (max_bytes != 0 && i > max_bytes) goto general;
    o[0] = '"';
    o[1 + i] = '"';
    b->len += i + 2;
    return 0;
general:
    if (s == NULL) return rl_json_string(b, "", 0, 0);
    return json_cstr_sse2(b, u, max_bytes);
#else
    if (s == NULL) return rl_json_string(b, "", 0, 0);
    return rl_json_string(b, s, strlen(s), max_bytes);
#endif
}

/*
 * The 8 decimal digits of x < 10^8 (leading zeros included), as ASCII bytes in one word, most
 * significant digit in the lowest byte (memory order): the word is split into 4-digit, then
 * 2-digit, then 1-digit lanes by multiplications (each lane's quotient by 100 or 10 via a
 * reciprocal exact for the lane's range), so a number costs a few multiplies, not a division
 * per digit pair.
 */
static uint64_t eight_digits(uint32_t x) {
    uint64_t v = (uint64_t)(x / 10000) | ((uint64_t)(x % 10000) << 32);
    uint64_t q = ((v * 10486) >> 20) & 0x0000007F0000007FULL; /* /100 per 32-bit lane */
    v = q | ((v - q * 100) << 16);
    q = ((v * 103) >> 10) & 0x000F000F000F000FULL; /* /10 per 16-bit lane */
    v = q | ((v - q * 10) << 8);
    return v;
}

/* Added to a word of eight_digits: each digit becomes its ASCII character. */
#define ASCII_ZEROS 0x3030303030303030ULL

/* Stores the word's 8 bytes (the buffer has room: see rl_json_uint). */
static void put8(char *o, uint64_t word) {
    uint64_t le = word;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    le = __builtin_bswap64(word);
#endif
    memcpy(o, &le, 8);
}

void rl_json_uint(rl_buf *b, unsigned long long v) {
    /* Digits are made 8 at a time in registers (eight_digits) and stored 8 bytes at a time
     * straight to their place: no division per digit pair, no digit table, no copy through
     * memory (a 16-byte reload of many 1-byte digit stores stalled, as perf showed). The first
     * group loses its leading zeros by a shift; stores may write up to 7 bytes past the
     * number, inside the room reserved here, and later output overwrites them. */
    char *o;
    uint64_t first, word;
    unsigned zeros, n;
    if (b->failed || (b->cap - b->len < 32 && !rl_buf_reserve(b, 32))) return;
    o = b->data + b->len;
    if (v < 100000000ULL) {
        first = v;
    } else if (v < 10000000000000000ULL) {
        first = v / 100000000ULL;
    } else {
        first = v / 10000000000000000ULL; /* at most 1844 */
    }
    word = eight_digits((uint32_t)first);
    /* Leading zero digits are the word's low zero bytes (x = 0 keeps one '0'). */
    zeros = word ? (unsigned)__builtin_ctzll(word) / 8 : 7;
    n = 8 - zeros;
    put8(o, (word >> (zeros * 8)) + ASCII_ZEROS);
    o += n;
    if (v >= 10000000000000000ULL) {
        put8(o, eight_digits((uint32_t)((v / 100000000ULL) % 100000000ULL)) + ASCII_ZEROS);
        o += 8;
    }
    if (v >= 100000000ULL) {
        put8(o, eight_digits((uint32_t)(v % 100000000ULL)) + ASCII_ZEROS);
        o += 8;
    }
    b->len = (size_t)(o - b->data);
}

void rl_json_key(rl_buf *b, const char *key) {
    rl_buf_putc(b, '"');
    rl_buf_puts(b, key);
    rl_buf_putc(b, '"');
    rl_buf_putc(b, ':');
}

/* rl_json: see rl_json.h. */
#include "rl_json.h"

#include <stdlib.h>
#include <string.h>

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

/* 1 for bytes copied as they are: printable ASCII except '"' and '\\'. */
static const unsigned char PLAIN[256] = {
    ['\x20'] = 1, ['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1,
    ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1,
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
    ['8'] = 1, ['9'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1,
    ['@'] = 1, ['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
    ['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1,
    ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1,
    ['X'] = 1, ['Y'] = 1, ['Z'] = 1, ['['] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1,
    ['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
    ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
    ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
    ['y'] = 1, ['z'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1};

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

int rl_json_string(rl_buf *b, const char *str, size_t n, size_t max_bytes) {
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, limit = n, run = 0;
    int truncated = 0;
    if (max_bytes && n > max_bytes) {
        limit = max_bytes;
        truncated = 1;
    }
    /* Worst case is 6 output bytes per input byte; reserving once keeps the loop simple. */
    if (!rl_buf_reserve(b, limit * 6 + sizeof(RL_TRUNC_MARKER) + 2)) return truncated;
    b->data[b->len++] = '"';
    while (i < limit) {
        unsigned char c = s[i];
        if (PLAIN[c]) {
            /* Plain ASCII runs are copied in one go, found 8 bytes at a time where possible. */
            run = i + 1;
            while (run + 8 <= limit && plain8(s + run)) run += 8;
            while (run < limit && PLAIN[s[run]]) run++;
            memcpy(b->data + b->len, s + i, run - i);
            b->len += run - i;
            i = run;
            continue;
        }
        if (c < 0x80) {
            char *o = b->data + b->len;
            switch (c) {
            case '"': o[0] = '\\'; o[1] = '"'; b->len += 2; break;
            case '\\': o[0] = '\\'; o[1] = '\\'; b->len += 2; break;
            case '\b': o[0] = '\\'; o[1] = 'b'; b->len += 2; break;
            case '\f': o[0] = '\\'; o[1] = 'f'; b->len += 2; break;
            case '\n': o[0] = '\\'; o[1] = 'n'; b->len += 2; break;
            case '\r': o[0] = '\\'; o[1] = 'r'; b->len += 2; break;
            case '\t': o[0] = '\\'; o[1] = 't'; b->len += 2; break;
            default: /* other controls and DEL */
                o[0] = '\\'; o[1] = 'u'; o[2] = '0'; o[3] = '0';
                o[4] = HEX[c >> 4]; o[5] = HEX[c & 15];
                b->len += 6;
            }
            i++;
            continue;
        }
        {
            size_t len = rl_utf8_seq_len(s + i, n - i);
            if (len == 0) {
                /* One replacement character per invalid byte: simple and never loses sync. */
                memcpy(b->data + b->len, "\\ufffd", 6);
                b->len += 6;
                i++;
            } else if (i + len > limit) {
                /* The cut falls inside a character: stop before it. */
                break;
            } else {
                memcpy(b->data + b->len, s + i, len);
                b->len += len;
                i += len;
            }
        }
    }
    if (truncated) {
        memcpy(b->data + b->len, RL_TRUNC_MARKER, sizeof(RL_TRUNC_MARKER) - 1);
        b->len += sizeof(RL_TRUNC_MARKER) - 1;
    }
    b->data[b->len++] = '"';
    return truncated;
}

int rl_json_cstr(rl_buf *b, const char *s, size_t max_bytes) {
    if (s == NULL) return rl_json_string(b, "", 0, 0);
    return rl_json_string(b, s, strlen(s), max_bytes);
}

void rl_json_uint(rl_buf *b, unsigned long long v) {
    char tmp[24];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    rl_buf_put(b, tmp + i, sizeof(tmp) - i);
}

void rl_json_key(rl_buf *b, const char *key) {
    rl_buf_putc(b, '"');
    rl_buf_puts(b, key);
    rl_buf_putc(b, '"');
    rl_buf_putc(b, ':');
}

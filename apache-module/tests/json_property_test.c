/*
 * Property test of rl_json_string: for random byte strings (a fixed seed, so failures
 * reproduce) the output is always one valid JSON string — checked by an independent strict
 * validator below — and for valid UTF-8 input, decoding the output gives back the input.
 */
#include <stdlib.h>
#include <string.h>

#include "rl_json.h"
#include "unit.h"

/* xorshift64*: deterministic and good enough to spread bytes. */
static unsigned long long rng_state = 0x9E3779B97F4A7C15ULL;
static unsigned long long next_rand(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 2685821657736338717ULL;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Appends the UTF-8 encoding of cp. */
static size_t put_utf8(unsigned cp, char *out) {
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xC0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    out[0] = (char)(0xE0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    out[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
}

/*
 * Strict RFC 8259 string check: quotes around, no raw control characters or lone quotes,
 * only the defined escapes, valid UTF-8 everywhere. Decodes into `out` (for the round trip).
 * Returns the decoded length, or -1 when the text is not one valid JSON string.
 */
static long validate_and_decode(const char *s, size_t n, char *out) {
    size_t i = 1, w = 0;
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') return -1;
    while (i < n - 1) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == '"') return -1;
        if (c == '\\') {
            char e;
            if (i + 1 >= n - 1) return -1;
            e = s[i + 1];
            if (e == 'u') {
                int k, v = 0;
                if (i + 6 > n - 1) return -1; /* four hex digits before the closing quote */
                for (k = 0; k < 4; k++) {
                    int h = hexval(s[i + 2 + k]);
                    if (h < 0) return -1;
                    v = v * 16 + h;
                }
                if (v >= 0xD800 && v <= 0xDFFF) return -1; /* the writer never splits pairs */
                w += put_utf8((unsigned)v, out + w);
                i += 6;
                continue;
            }
            switch (e) {
            case '"': out[w++] = '"'; break;
            case '\\': out[w++] = '\\'; break;
            case '/': out[w++] = '/'; break;
            case 'b': out[w++] = '\b'; break;
            case 'f': out[w++] = '\f'; break;
            case 'n': out[w++] = '\n'; break;
            case 'r': out[w++] = '\r'; break;
            case 't': out[w++] = '\t'; break;
            default: return -1;
            }
            i += 2;
            continue;
        }
        {
            size_t len = rl_utf8_seq_len((const unsigned char *)s + i, n - 1 - i);
            if (len == 0) return -1;
            memcpy(out + w, s + i, len);
            w += len;
            i += len;
        }
    }
    return (long)w;
}

static int is_valid_utf8(const unsigned char *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        size_t len = rl_utf8_seq_len(s + i, n - i);
        if (len == 0) return 0;
        i += len;
    }
    return 1;
}

static void random_bytes_always_give_valid_json(void **state) {
    unsigned char in[300];
    static char decoded[300 * 6];
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        size_t n = next_rand() % sizeof(in), i, max = (round % 3 == 0) ? 1 + next_rand() % 64 : 0;
        rl_buf b;
        long d;
        /* Mix plain ASCII, controls, quotes and high bytes so every path is taken. */
        for (i = 0; i < n; i++) {
            unsigned long long r = next_rand();
            in[i] = (r & 3) == 0 ? (unsigned char)(r >> 8) : (unsigned char)(0x20 + (r >> 8) % 95);
        }
        rl_buf_init(&b, 16);
        rl_json_string(&b, (const char *)in, n, max);
        assert_false(b.failed);
        d = validate_and_decode(b.data, b.len, decoded);
        if (d < 0) fail_msg("invalid JSON for round %d", round);
        if (max == 0 && is_valid_utf8(in, n)) {
            assert_int_equal((size_t)d, n);
            assert_memory_equal(decoded, in, n);
        }
        rl_buf_free(&b);
    }
}

/*
 * rl_json_cstr (which finds the NUL while it escapes) writes exactly what rl_json_string
 * writes for the same bytes and length, for any bytes, limit and buffer state, including
 * strings that end right before an unmapped page.
 */
static void cstr_equals_string_with_its_length(void **state) {
    size_t page;
    unsigned char *map = unit_guarded_page(&page);
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        size_t n = next_rand() % 300, i, max = (round % 3 == 0) ? 1 + next_rand() % 64 : 0;
        /* Half of the strings end at the page's end (their NUL is its last byte). */
        unsigned char *in = (round & 1) ? map + page - n - 1 : map + next_rand() % 64;
        rl_buf by_len, by_nul;
        int t1, t2;
        for (i = 0; i < n; i++) {
            unsigned long long r = next_rand();
            in[i] = (r & 3) == 0 ? (unsigned char)(1 + (r >> 8) % 255)
                                 : (unsigned char)(0x20 + (r >> 8) % 95);
        }
        in[n] = 0;
        /* A small first buffer, so growth happens in the middle of a value too. */
        rl_buf_init(&by_len, 1 + next_rand() % 40);
        rl_buf_init(&by_nul, by_len.cap);
        rl_buf_putc(&by_len, 'x');
        rl_buf_putc(&by_nul, 'x');
        t1 = rl_json_string(&by_len, (const char *)in, n, max);
        t2 = rl_json_cstr(&by_nul, (const char *)in, max);
        assert_int_equal(t1, t2);
        if (by_len.len != by_nul.len || memcmp(by_len.data, by_nul.data, by_len.len) != 0)
            fail_msg("round %d: cstr and string differ (n %zu, max %zu)", round, n, max);
        rl_buf_free(&by_len);
        rl_buf_free(&by_nul);
    }
    unit_guarded_page_free(map, page);
}

static void random_valid_utf8_round_trips(void **state) {
    static const unsigned cps[] = {0x41, 0x22, 0x5C, 0x0A, 0x01, 0x7F, 0xE9, 0x20AC, 0xFFFD,
                                   0x2028, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFFFF};
    char in[400];
    static char decoded[400 * 6];
    int round;
    (void)state;
    for (round = 0; round < 5000; round++) {
        size_t n = 0;
        rl_buf b;
        long d;
        while (n < sizeof(in) - 4 && next_rand() % 50) {
            if (next_rand() % 4 == 0) {
                /* A 4-byte character (U+10000..U+10FFFF). */
                unsigned cp = 0x10000 + (unsigned)(next_rand() % 0x100000);
                in[n++] = (char)(0xF0 | cp >> 18);
                in[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
                in[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
                in[n++] = (char)(0x80 | (cp & 0x3F));
            } else {
                n += put_utf8(cps[next_rand() % (sizeof(cps) / sizeof(cps[0]))], in + n);
            }
        }
        rl_buf_init(&b, 16);
        rl_json_string(&b, in, n, 0);
        d = validate_and_decode(b.data, b.len, decoded);
        assert_int_equal(d, (long)n);
        assert_memory_equal(decoded, in, n);
        rl_buf_free(&b);
    }
}

static void the_validator_rejects_invalid_strings(void **state) {
    char out[64];
    static const char *const bad[] = {"a", "\"a", "\"a\x01\"", "\"a\"b\"", "\"\\x\"",
                                      "\"\xff\"", "\"\\u12\"", "\"\\ud800\"", "\"\xc3\""};
    size_t i;
    (void)state;
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(validate_and_decode(bad[i], strlen(bad[i]), out), -1);
    {
        static const char good[] = "\"a\\n\\u00e9\"";
        assert_int_equal(validate_and_decode(good, sizeof(good) - 1, out), 4);
    }
    assert_memory_equal(out, "a\n\xc3\xa9", 4);
}

int run_json_property_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_validator_rejects_invalid_strings),
        cmocka_unit_test(random_bytes_always_give_valid_json),
        cmocka_unit_test(random_valid_utf8_round_trips),
        cmocka_unit_test(cstr_equals_string_with_its_length),
    };
    return cmocka_run_group_tests_name("rl_json properties", tests, NULL, NULL);
}

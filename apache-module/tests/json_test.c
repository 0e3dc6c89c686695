/* rl_json: escaping, invalid UTF-8, truncation, buffer growth. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rl_json.h"
#include "unit.h"

/* Writes `n` bytes of `in` as a JSON string with `max` and checks the exact output. */
static int check(const char *in, size_t n, size_t max, const char *want) {
    rl_buf b;
    int truncated;
    rl_buf_init(&b, 4);
    truncated = rl_json_string(&b, in, n, max);
    rl_buf_putc(&b, '\0');
    assert_false(b.failed);
    assert_string_equal(b.data, want);
    rl_buf_free(&b);
    return truncated;
}

static void plain_ascii_is_copied(void **state) {
    (void)state;
    assert_int_equal(check("GET /index.html", 15, 0, "\"GET /index.html\""), 0);
    assert_int_equal(check("", 0, 0, "\"\""), 0);
}

static void quotes_backslashes_and_controls_are_escaped(void **state) {
    (void)state;
    check("a\"b\\c", 5, 0, "\"a\\\"b\\\\c\"");
    check("\b\f\n\r\t", 5, 0, "\"\\b\\f\\n\\r\\t\"");
    check("\x01\x1f\x7f", 3, 0, "\"\\u0001\\u001f\\u007f\"");
    /* An embedded NUL (counted length) must not end the string early. */
    check("a\0b", 3, 0, "\"a\\u0000b\"");
    /* What a header-injection attempt looks like once escaped. */
    check("x\r\nSet-Cookie: a=b", 18, 0, "\"x\\r\\nSet-Cookie: a=b\"");
}

static void valid_utf8_is_kept(void **state) {
    (void)state;
    check("caf\xc3\xa9", 5, 0, "\"caf\xc3\xa9\"");              /* é, 2 bytes */
    check("\xe2\x82\xac", 3, 0, "\"\xe2\x82\xac\"");            /* €, 3 bytes */
    check("\xf0\x9f\x98\x80", 4, 0, "\"\xf0\x9f\x98\x80\"");    /* emoji, 4 bytes */
    check("\xf4\x8f\xbf\xbf", 4, 0, "\"\xf4\x8f\xbf\xbf\"");    /* U+10FFFF */
}

static void invalid_utf8_becomes_replacement_characters(void **state) {
    (void)state;
    check("\xff", 1, 0, "\"\\ufffd\"");
    check("a\xc0\x80z", 4, 0, "\"a\\ufffd\\ufffdz\"");          /* overlong NUL */
    check("\xed\xa0\x80", 3, 0, "\"\\ufffd\\ufffd\\ufffd\"");   /* UTF-16 surrogate */
    check("\xe2\x82", 2, 0, "\"\\ufffd\\ufffd\"");              /* cut sequence */
    check("\xf5\x80\x80\x80", 4, 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
    check("\xf4\x90\x80\x80", 4, 0, "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    check("\x80x", 2, 0, "\"\\ufffdx\"");                       /* lone continuation */
}

static void long_values_are_truncated_with_a_marker(void **state) {
    (void)state;
    assert_int_equal(check("abcdefgh", 8, 4, "\"abcd" RL_TRUNC_MARKER "\""), 1);
    /* Exactly at the limit: kept whole, no marker. */
    assert_int_equal(check("abcd", 4, 4, "\"abcd\""), 0);
    /* The cut falls inside "é": the whole character goes, never half of it. */
    assert_int_equal(check("ab\xc3\xa9zz", 6, 3, "\"ab" RL_TRUNC_MARKER "\""), 1);
    /* Escapes count the input bytes, not the output bytes. */
    assert_int_equal(check("\n\n\n\n\n", 5, 2, "\"\\n\\n" RL_TRUNC_MARKER "\""), 1);
}

static void the_buffer_grows_for_large_values(void **state) {
    rl_buf b;
    size_t n = 100000, i;
    char *big = malloc(n);
    (void)state;
    assert_non_null(big);
    for (i = 0; i < n; i++) big[i] = (i % 10 == 0) ? '"' : 'x';
    rl_buf_init(&b, 1);
    rl_json_string(&b, big, n, 0);
    assert_false(b.failed);
    /* 10000 quotes each gain a backslash; plus the two enclosing quotes. */
    assert_int_equal(b.len, n + n / 10 + 2);
    rl_buf_free(&b);
    free(big);
}

/* Long plain runs are scanned 8 bytes at a time: a byte that needs escaping (or UTF-8
 * checks) must be found at every position of a word, with every kind of byte. */
static void a_special_byte_is_found_at_any_position_of_a_long_run(void **state) {
    static const unsigned char specials[] = {0x00, 0x01, 0x08, 0x1f, '"', '\\', 0x7f, 0x80,
                                             0xc3, 0xff};
    size_t k, j;
    (void)state;
    for (j = 0; j < sizeof(specials); j++) {
        rl_buf one, got;
        char in[40], want[128];
        size_t esc_len;
        /* The byte's escape as the byte-by-byte path writes it (a 1-byte input). */
        rl_buf_init(&one, 0);
        rl_json_string(&one, (const char *)&specials[j], 1, 0);
        esc_len = one.len - 2;
        for (k = 0; k < sizeof(in); k++) {
            size_t w = 0;
            memset(in, 'a', sizeof(in));
            in[k] = (char)specials[j];
            want[w++] = '"';
            memcpy(want + w, in, k);
            w += k;
            memcpy(want + w, one.data + 1, esc_len);
            w += esc_len;
            memcpy(want + w, in + k + 1, sizeof(in) - k - 1);
            w += sizeof(in) - k - 1;
            want[w++] = '"';
            rl_buf_init(&got, 0);
            rl_json_string(&got, in, sizeof(in), 0);
            assert_int_equal(got.len, w);
            assert_memory_equal(got.data, want, w);
            rl_buf_free(&got);
        }
        rl_buf_free(&one);
    }
}

static void a_borrowed_buffer_is_used_then_left_for_own_storage(void **state) {
    char mem[16 + 1];
    rl_buf b;
    (void)state;
    mem[16] = '#'; /* guard: nothing may be written past the borrowed bytes */
    rl_buf_init_on(&b, mem, 16);
    rl_buf_puts(&b, "0123456789");
    assert_ptr_equal(b.data, mem); /* fits: no allocation */
    assert_false(b.owned);
    rl_json_cstr(&b, "abcdefghijklmnopqrstuvwxyz", 0);
    assert_false(b.failed);
    assert_true(b.owned);
    assert_ptr_not_equal(b.data, mem);
    assert_int_equal(b.len, 10 + 28);
    assert_memory_equal(b.data, "0123456789\"abcdefghijklmnopqrstuvwxyz\"", b.len);
    assert_memory_equal(mem, "0123456789", 10); /* the borrowed part was copied, not moved */
    assert_int_equal(mem[16], '#');
    rl_buf_free(&b);
    assert_null(b.data);
    /* Freeing a buffer that stayed on borrowed memory does not free that memory. */
    rl_buf_init_on(&b, mem, 16);
    rl_buf_putc(&b, 'x');
    rl_buf_free(&b);
    assert_int_equal(mem[0], 'x');
    assert_int_equal(mem[16], '#');
}

static void numbers_keys_and_null_strings(void **state) {
    rl_buf b;
    (void)state;
    rl_buf_init(&b, 0);
    rl_json_key(&b, "src_port");
    rl_json_uint(&b, 0);
    rl_buf_putc(&b, ',');
    rl_json_uint(&b, 18446744073709551615ULL);
    rl_buf_putc(&b, ',');
    rl_json_cstr(&b, NULL, 0);
    rl_buf_putc(&b, '\0');
    assert_string_equal(b.data, "\"src_port\":0,18446744073709551615,\"\"");
    rl_buf_free(&b);
}

/* Every digit count and both parities of it, against snprintf. */
static void numbers_match_printf(void **state) {
    unsigned long long v = 1, tries[64];
    size_t k = 0, i;
    char want[24];
    (void)state;
    for (i = 0; i < 20; i++) {
        tries[k++] = v - 1;
        tries[k++] = v;
        tries[k++] = v * 7 + 3;
        v *= 10;
    }
    tries[k++] = 18446744073709551615ULL;
    for (i = 0; i < k; i++) {
        rl_buf b;
        rl_buf_init(&b, 0);
        rl_json_uint(&b, tries[i]);
        rl_buf_putc(&b, '\0');
        snprintf(want, sizeof(want), "%llu", tries[i]);
        assert_string_equal(b.data, want);
        rl_buf_free(&b);
    }
}

/* 200,000 pseudo-random numbers of every bit width, written one after another into one buffer
 * (the writer stores whole 8-byte groups past a number: the next one must overwrite them). */
static void random_numbers_match_printf(void **state) {
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    char want[48];
    int i;
    (void)state;
    for (i = 0; i < 200000; i++) {
        unsigned long long v, w;
        rl_buf b;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = x >> (x % 64);
        w = x % 1000;
        rl_buf_init(&b, 0);
        rl_json_uint(&b, v);
        rl_buf_putc(&b, ',');
        rl_json_uint(&b, w);
        rl_buf_putc(&b, '\0');
        snprintf(want, sizeof(want), "%llu,%llu", v, w);
        assert_string_equal(b.data, want);
        rl_buf_free(&b);
    }
}

/*
 * Values that end right before an unmapped page: the writer's block loads must stay within
 * the page, and the result must equal that of the same bytes elsewhere.
 */
static void values_ending_at_a_page_boundary_are_read_safely(void **state) {
    size_t page, len;
    unsigned char *map = unit_guarded_page(&page);
    (void)state;
    for (len = 0; len <= 40; len++) {
        unsigned char *at = map + page - len, copy[64];
        rl_buf near_end, elsewhere;
        size_t k;
        for (k = 0; k < len; k++) at[k] = (unsigned char)(k % 7 == 3 ? '"' : 'a' + k % 26);
        memcpy(copy, at, len);
        rl_buf_init(&near_end, 0);
        rl_buf_init(&elsewhere, 0);
        rl_json_string(&near_end, (const char *)at, len, 0);
        rl_json_string(&elsewhere, (const char *)copy, len, 0);
        assert_int_equal(near_end.len, elsewhere.len);
        assert_memory_equal(near_end.data, elsewhere.data, near_end.len);
        rl_buf_free(&near_end);
        rl_buf_free(&elsewhere);
    }
    unit_guarded_page_free(map, page);
}

static void utf8_sequence_lengths(void **state) {
    (void)state;
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"A", 1), 1);
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"\xc2\x80", 2), 2);
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"\xc2\x80", 1), 0);
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"\xc1\xbf", 2), 0);
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"\xe0\x9f\xbf", 3), 0);
    assert_int_equal(rl_utf8_seq_len((const unsigned char *)"\xed\x9f\xbf", 3), 3);
}

int run_json_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plain_ascii_is_copied),
        cmocka_unit_test(quotes_backslashes_and_controls_are_escaped),
        cmocka_unit_test(valid_utf8_is_kept),
        cmocka_unit_test(invalid_utf8_becomes_replacement_characters),
        cmocka_unit_test(long_values_are_truncated_with_a_marker),
        cmocka_unit_test(the_buffer_grows_for_large_values),
        cmocka_unit_test(a_special_byte_is_found_at_any_position_of_a_long_run),
        cmocka_unit_test(a_borrowed_buffer_is_used_then_left_for_own_storage),
        cmocka_unit_test(numbers_keys_and_null_strings),
        cmocka_unit_test(numbers_match_printf),
        cmocka_unit_test(random_numbers_match_printf),
        cmocka_unit_test(values_ending_at_a_page_boundary_are_read_safely),
        cmocka_unit_test(utf8_sequence_lengths),
    };
    return cmocka_run_group_tests_name("rl_json", tests, NULL, NULL);
}

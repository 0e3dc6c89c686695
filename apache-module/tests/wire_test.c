/* rl_wire: header names in wire order, whatever the read boundaries. */
#include <stdio.h>
#include <string.h>

#include "rl_json.h"
#include "rl_wire.h"
#include "unit.h"

static const char REQUEST[] =
    "\r\n"                                   /* stray blank line before the request */
    "GET /x HTTP/1.1\r\n"
    "Host: a\r\n"
    "Sec-Fetch-Mode: cors\r\n"
    "X-Folded: one\r\n"
    " two\r\n"                               /* obsolete line folding */
    "Sec-Fetch-Mode: navigate\r\n"           /* repeated: must appear twice */
    "lower-case: yes\n"                      /* bare LF */
    "\r\n"
    "5\r\nhello\r\n0\r\n\r\n";               /* a chunked body: ignored */

/* Name i of the wire's record equals `want`. */
static void assert_name(const rl_wire *w, size_t i, const char *want) {
    size_t len;
    const char *name = rl_wire_name(w, i, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(name, want, len);
}

static void check_names(const rl_wire *w) {
    static const char items[] = "\"Host\",\"Sec-Fetch-Mode\",\"X-Folded\",\"Sec-Fetch-Mode\","
                                "\"lower-case\"";
    assert_int_equal(w->state, RL_WIRE_DONE);
    assert_int_equal(w->json_plain, 1);
    assert_int_equal(w->json_len, sizeof(items) - 1);
    assert_memory_equal(w->json, items, sizeof(items) - 1);
    assert_int_equal(w->longest, 14);
    assert_int_equal(w->n_names, 5);
    assert_name(w, 0, "Host");
    assert_name(w, 1, "Sec-Fetch-Mode");
    assert_name(w, 2, "X-Folded");
    assert_name(w, 3, "Sec-Fetch-Mode");
    assert_name(w, 4, "lower-case");
}

static void whole_request_at_once(void **state) {
    rl_wire w;
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, REQUEST, sizeof(REQUEST) - 1);
    check_names(&w);
}

static void one_byte_at_a_time(void **state) {
    rl_wire w;
    size_t i;
    (void)state;
    rl_wire_reset(&w);
    for (i = 0; i < sizeof(REQUEST) - 1; i++) rl_wire_feed(&w, REQUEST + i, 1);
    check_names(&w);
}

/* Whole lines are read in place, pieces through the line buffer: every split point of the
 * request (two reads) and line-by-line reads must give the same names. */
static void any_split_gives_the_same_names(void **state) {
    size_t k;
    const char *p, *nl;
    rl_wire w;
    (void)state;
    for (k = 0; k <= sizeof(REQUEST) - 1; k++) {
        rl_wire_reset(&w);
        rl_wire_feed(&w, REQUEST, k);
        rl_wire_feed(&w, REQUEST + k, sizeof(REQUEST) - 1 - k);
        check_names(&w);
    }
    rl_wire_reset(&w);
    for (p = REQUEST; (nl = strchr(p, '\n')) != NULL; p = nl + 1)
        rl_wire_feed(&w, p, (size_t)(nl + 1 - p));
    check_names(&w);
}

static void a_long_name_in_pieces_is_cut_alike(void **state) {
    rl_wire w;
    char line[305];
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, "GET / HTTP/1.1\r\n", 16);
    memset(line, 'N', 300);
    memcpy(line + 300, ": v\r\n", 5);
    rl_wire_feed(&w, line, 100);
    rl_wire_feed(&w, line + 100, 205);
    rl_wire_feed(&w, "\r\n", 2);
    assert_int_equal(w.state, RL_WIRE_DONE);
    assert_int_equal(w.n_names, 1);
    assert_int_equal(w.lens[0], RL_WIRE_MAX_NAME);
}

/* Whole lines handed over without their LF (the module's usual line-mode read) give the
 * same names as feeding the bytes. */
static void whole_lines_equal_the_fed_bytes(void **state) {
    const char *p = REQUEST, *end = REQUEST + sizeof(REQUEST) - 1;
    rl_wire w;
    (void)state;
    rl_wire_reset(&w);
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (nl == NULL) break;
        rl_wire_line(&w, p, (size_t)(nl - p));
        p = nl + 1;
    }
    check_names(&w);
}

static void reset_starts_the_next_request(void **state) {
    rl_wire w;
    static const char next[] = "POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n";
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, REQUEST, sizeof(REQUEST) - 1);
    rl_wire_reset(&w);
    rl_wire_feed(&w, next, sizeof(next) - 1);
    assert_int_equal(w.state, RL_WIRE_DONE);
    assert_int_equal(w.n_names, 1);
    assert_name(&w, 0, "Content-Length");
}

static void long_names_are_cut_and_too_many_flagged(void **state) {
    rl_wire w;
    char line[600];
    int i;
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, "GET / HTTP/1.1\r\n", 16);
    memset(line, 'N', 300);
    memcpy(line + 300, ": v\r\n", 5);
    rl_wire_feed(&w, line, 305);
    assert_int_equal(w.lens[0], RL_WIRE_MAX_NAME);
    for (i = 1; i < RL_WIRE_MAX_NAMES + 5; i++) {
        int n = snprintf(line, sizeof(line), "H%d: v\r\n", i);
        rl_wire_feed(&w, line, (size_t)n);
    }
    assert_int_equal(w.n_names, RL_WIRE_MAX_NAMES);
    assert_int_equal(w.overflow, 1);
    assert_int_equal(w.state, RL_WIRE_HEADERS);
}

static void names_beyond_the_byte_budget_flag_overflow(void **state) {
    rl_wire w;
    char line[200];
    int i;
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, "GET / HTTP/1.1\r\n", 16);
    /* 30 names of 100 bytes do not fit in RL_WIRE_JSON_BYTES. */
    for (i = 0; i < 30; i++) {
        int n = snprintf(line, sizeof(line), "%0100d: v\r\n", i);
        rl_wire_feed(&w, line, (size_t)n);
    }
    rl_wire_feed(&w, "\r\n", 2);
    assert_int_equal(w.state, RL_WIRE_DONE);
    assert_int_equal(w.overflow, 1);
    assert_true(w.n_names < 30);
    assert_true(w.json_len <= RL_WIRE_JSON_BYTES);
}


/* The JSON items are what escaping each name gives, exactly when every name is plain; a
 * special byte anywhere in a name (before or past its first 16 bytes) clears json_plain, one in
 * a value does not. Random names over an alphabet with every kind of special byte. */
static void json_items_equal_escaping_each_name(void **state) {
    static const char alphabet[] = "aZ-_.!~09xyzABC\"\\\x01\x7f\x80\xc3\xa9\t";
    unsigned seed = 12345;
    int round;
    (void)state;
    for (round = 0; round < 20000; round++) {
        rl_wire w;
        rl_buf want;
        char line[128];
        int n_names = 1 + (int)(seed % 5), i, plain = 1;
        rl_wire_reset(&w);
        rl_wire_line(&w, "GET / HTTP/1.1\r", 15);
        rl_buf_init(&want, 0);
        for (i = 0; i < n_names; i++) {
            int len, k;
            seed = seed * 1103515245u + 12345u;
            len = 1 + (int)((seed >> 8) % 40);
            for (k = 0; k < len; k++) {
                seed = seed * 1103515245u + 12345u;
                /* Mostly plain bytes, so that all-plain requests are common too; never a tab
                 * first (that line would continue the previous field). */
                line[k] = (k == 0 || (seed >> 16) % 8) ? alphabet[(seed >> 20) % 15]
                                           : alphabet[(seed >> 20) % (sizeof(alphabet) - 1)];
                if ((unsigned char)line[k] < 0x20 || (unsigned char)line[k] >= 0x7f ||
                    line[k] == '"' || line[k] == '\\')
                    plain = 0;
            }
            memcpy(line + len, ": v\"\x01\xff\r", 8); /* special bytes in the value only */
            rl_wire_line(&w, line, (size_t)len + 7);
            if (i) rl_buf_putc(&want, ',');
            rl_json_string(&want, line, (size_t)len, 0);
        }
        rl_wire_line(&w, "\r", 1);
        assert_int_equal(w.state, RL_WIRE_DONE);
        assert_int_equal(w.json_plain, plain);
        if (plain) {
            assert_int_equal(w.json_len, want.len);
            assert_memory_equal(w.json, want.data, want.len);
        }
        rl_buf_free(&want);
    }
}

/* Near the end of the budget, a short name on a long line still fits (the line's length only
 * decides how the name is copied), and the record stays exact. */
static void a_short_name_fits_at_the_end_of_the_budget(void **state) {
    rl_wire w;
    char line[300];
    int i, n;
    size_t before;
    (void)state;
    rl_wire_reset(&w);
    rl_wire_line(&w, "GET / HTTP/1.1", 14);
    for (i = 0; w.json_len + 103 <= RL_WIRE_JSON_BYTES - 20; i++) {
        n = snprintf(line, sizeof(line), "%0100d: v", i);
        rl_wire_line(&w, line, (size_t)n);
    }
    before = w.json_len;
    memset(line, 'v', sizeof(line));
    memcpy(line, "Ab-c: ", 6);
    rl_wire_line(&w, line, sizeof(line)); /* a 300-byte line: more than the room left */
    rl_wire_line(&w, "", 0);
    assert_int_equal(w.state, RL_WIRE_DONE);
    assert_int_equal(w.overflow, 0);
    assert_int_equal(w.json_len, before + 7);
    assert_name(&w, w.n_names - 1, "Ab-c");
    assert_memory_equal(w.json + before, ",\"Ab-c\"", 7);
}

static void cookie_fields_are_counted(void **state) {
    static const char req[] = "GET / HTTP/1.1\r\nCookie: a=1\r\ncookie: b=2\r\nCOOKIE: c\r\n"
                              "Cookies: d\r\nCookie: e\r\nCookie2: f\r\nCoOkIe: g\r\n\r\n";
    rl_wire w;
    (void)state;
    rl_wire_reset(&w);
    rl_wire_feed(&w, req, sizeof(req) - 1);
    assert_int_equal(w.n_names, 7);
    assert_int_equal(w.cookies_any, 5);
    assert_int_equal(w.cookies_exact, 2);
    rl_wire_reset(&w);
    assert_int_equal(w.cookies_any, 0);
    assert_int_equal(w.cookies_exact, 0);
}

int run_wire_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_request_at_once),
        cmocka_unit_test(one_byte_at_a_time),
        cmocka_unit_test(any_split_gives_the_same_names),
        cmocka_unit_test(a_long_name_in_pieces_is_cut_alike),
        cmocka_unit_test(whole_lines_equal_the_fed_bytes),
        cmocka_unit_test(reset_starts_the_next_request),
        cmocka_unit_test(long_names_are_cut_and_too_many_flagged),
        cmocka_unit_test(names_beyond_the_byte_budget_flag_overflow),
        cmocka_unit_test(json_items_equal_escaping_each_name),
        cmocka_unit_test(cookie_fields_are_counted),
        cmocka_unit_test(a_short_name_fits_at_the_end_of_the_budget),
    };
    return cmocka_run_group_tests_name("rl_wire", tests, NULL, NULL);
}

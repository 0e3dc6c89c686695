/* rl_wire: header names in wire order, whatever the read boundaries. */
#include <stdio.h>
#include <string.h>

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

static void check_names(const rl_wire *w) {
    assert_int_equal(w->state, RL_WIRE_DONE);
    assert_int_equal(w->n_names, 5);
    assert_string_equal(rl_wire_name(w, 0), "Host");
    assert_string_equal(rl_wire_name(w, 1), "Sec-Fetch-Mode");
    assert_string_equal(rl_wire_name(w, 2), "X-Folded");
    assert_string_equal(rl_wire_name(w, 3), "Sec-Fetch-Mode");
    assert_string_equal(rl_wire_name(w, 4), "lower-case");
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
    assert_int_equal(strlen(rl_wire_name(&w, 0)), RL_WIRE_MAX_NAME);
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
    assert_string_equal(rl_wire_name(&w, 0), "Content-Length");
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
    assert_int_equal(strlen(rl_wire_name(&w, 0)), RL_WIRE_MAX_NAME);
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
    /* 30 names of 100 bytes do not fit in RL_WIRE_NAME_BYTES. */
    for (i = 0; i < 30; i++) {
        int n = snprintf(line, sizeof(line), "%0100d: v\r\n", i);
        rl_wire_feed(&w, line, (size_t)n);
    }
    rl_wire_feed(&w, "\r\n", 2);
    assert_int_equal(w.state, RL_WIRE_DONE);
    assert_int_equal(w.overflow, 1);
    assert_true(w.n_names < 30);
    assert_true(w.used <= RL_WIRE_NAME_BYTES);
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
    };
    return cmocka_run_group_tests_name("rl_wire", tests, NULL, NULL);
}

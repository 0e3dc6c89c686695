/* rl_batch: bounded appends, wake-up signal on the first line, overflow counting. */
#include <string.h>

#include "rl_batch.h"
#include "rl_json.h"
#include "unit.h"

static void first_line_wakes_then_lines_append(void **state) {
    rl_batch b;
    (void)state;
    assert_int_equal(rl_batch_init(&b, 64), 0);
    assert_int_equal(rl_batch_add(&b, "{\"a\":1}\n", 8, 100), RL_BATCH_FIRST);
    assert_int_equal(rl_batch_add(&b, "{\"a\":2}\n", 8, 200), RL_BATCH_ADDED);
    assert_int_equal(b.len, 16);
    assert_int_equal(b.lines, 2);
    assert_memory_equal(b.data, "{\"a\":1}\n{\"a\":2}\n", 16);
    rl_batch_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.lines, 0);
    assert_int_equal(rl_batch_add(&b, "{}\n", 3, 300), RL_BATCH_FIRST);
    rl_batch_free(&b);
}

/* Lines written in place at the tail (what the module does) count like appended ones; a line
 * the writer cannot fit in the remaining room moves to its own storage and the batch is left
 * as it was. */
static void lines_written_in_place_at_the_tail(void **state) {
    char long_value[101];
    rl_batch b;
    rl_buf buf;
    (void)state;
    memset(long_value, 'v', 100);
    long_value[100] = '\0';
    assert_int_equal(rl_batch_init(&b, 200), 0);
    assert_int_equal(rl_batch_room(&b), 200);
    rl_buf_init_on(&buf, rl_batch_tail(&b), rl_batch_room(&b));
    rl_json_cstr(&buf, "one", 0);
    rl_buf_putc(&buf, '\n');
    assert_false(buf.owned);
    assert_int_equal(rl_batch_commit(&b, buf.len, 100), RL_BATCH_FIRST);
    assert_int_equal(b.len, 6);
    assert_int_equal(b.first_us, 100);
    assert_int_equal(rl_batch_room(&b), 194);
    /* A value with a byte to escape takes the writer's general path, which reserves 6 × 100
     * bytes of room for 100: more than the batch's room, so the line moves out. */
    long_value[0] = '"';
    rl_buf_init_on(&buf, rl_batch_tail(&b), rl_batch_room(&b));
    rl_json_cstr(&buf, long_value, 0);
    assert_true(buf.owned);
    assert_int_equal(b.len, 6);
    assert_memory_equal(b.data, "\"one\"\n", 6);
    assert_int_equal(rl_batch_add(&b, buf.data, buf.len, 200), RL_BATCH_ADDED);
    rl_buf_free(&buf);
    assert_int_equal(b.lines, 2);
    assert_int_equal(b.len, 6 + 103);
    rl_batch_free(&b);
    assert_null(rl_batch_tail(&b));
    assert_int_equal(rl_batch_room(&b), 0);
}

static void a_full_batch_refuses_and_counts(void **state) {
    rl_batch b;
    char line[40];
    int i, added = 0;
    (void)state;
    memset(line, 'x', sizeof(line) - 1);
    line[sizeof(line) - 1] = '\n';
    assert_int_equal(rl_batch_init(&b, 100), 0);
    for (i = 0; i < 5; i++)
        if (rl_batch_add(&b, line, sizeof(line), 1) != RL_BATCH_FULL) added++;
    assert_int_equal(added, 2);
    assert_int_equal(b.overflowed, 3);
    assert_int_equal(b.len, 80);
    /* A line never goes in half: what is there is whole lines only. */
    assert_int_equal(b.data[b.len - 1], '\n');
    rl_batch_free(&b);
}

static void the_flusher_waits_until_the_first_line_is_old_enough(void **state) {
    rl_batch b;
    char line[80];
    (void)state;
    assert_int_equal(rl_batch_init(&b, 64), 0);
    assert_int_equal(rl_batch_flush_in(&b, 1000, 500), -1); /* empty: sleep until woken */
    rl_batch_add(&b, "{}\n", 3, 1000);
    rl_batch_add(&b, "{}\n", 3, 1400); /* later lines do not move the deadline */
    assert_int_equal(rl_batch_flush_in(&b, 1000, 500), 500);
    assert_int_equal(rl_batch_flush_in(&b, 1499, 500), 1);
    assert_int_equal(rl_batch_flush_in(&b, 1500, 500), 0);
    assert_int_equal(rl_batch_flush_in(&b, 9000, 500), 0);
    /* The clock was set back past the first line: send now, do not wait for it to catch up. */
    assert_int_equal(rl_batch_flush_in(&b, 999, 500), 0);
    /* Only refused lines (the batch was taken while full): due at once, to count them. */
    rl_batch_clear(&b);
    memset(line, 'x', sizeof(line));
    assert_int_equal(rl_batch_add(&b, line, 65, 2000), RL_BATCH_FULL);
    assert_int_equal(rl_batch_flush_in(&b, 2000, 500), 0);
    rl_batch_free(&b);
}

static void a_batch_is_due_when_old_or_big(void **state) {
    rl_batch b;
    (void)state;
    assert_int_equal(rl_batch_init(&b, 1024), 0);
    assert_false(rl_batch_due(&b, 1000000, 5000, 512)); /* empty: never due */
    rl_batch_add(&b, "{}\n", 3, 1000);
    rl_batch_add(&b, "{}\n", 3, 5000);
    assert_false(rl_batch_due(&b, 5999, 5000, 512)); /* age counts from the first line */
    assert_true(rl_batch_due(&b, 6000, 5000, 512));
    assert_true(rl_batch_due(&b, 1001, 5000, 6)); /* big enough */
    rl_batch_clear(&b);
    assert_false(rl_batch_due(&b, 1000000, 5000, 512));
    rl_batch_free(&b);
}

int run_batch_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(first_line_wakes_then_lines_append),
        cmocka_unit_test(a_full_batch_refuses_and_counts),
        cmocka_unit_test(lines_written_in_place_at_the_tail),
        cmocka_unit_test(a_batch_is_due_when_old_or_big),
        cmocka_unit_test(the_flusher_waits_until_the_first_line_is_old_enough),
    };
    return cmocka_run_group_tests_name("rl_batch", tests, NULL, NULL);
}

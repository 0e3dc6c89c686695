/* The cmocka unit tests of mod_reqin_log's pure C parts: one group per source file. */
#ifndef RL_UNIT_H
#define RL_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

int run_json_tests(void);
int run_sha256_tests(void);
int run_ja4h_tests(void);
int run_event_tests(void);
int run_wire_tests(void);
int run_sender_tests(void);
int run_batch_tests(void);
int run_json_property_tests(void);

/*
 * A readable and writable page followed by an unmapped one (sets *page to the page size):
 * bytes placed at its end show whether a reader stays within the page. Fails the test when
 * the mapping cannot be made. Release with unit_guarded_page_free.
 */
unsigned char *unit_guarded_page(size_t *page);
void unit_guarded_page_free(unsigned char *p, size_t page);

#endif

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

#endif

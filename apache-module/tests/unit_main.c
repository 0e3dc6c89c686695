/* Runs every cmocka group; the exit code is the number of failed tests. */
#include "unit.h"

int main(void) {
    int failed = 0;
    failed += run_json_tests();
    failed += run_sha256_tests();
    failed += run_ja4h_tests();
    failed += run_event_tests();
    failed += run_wire_tests();
    failed += run_sender_tests();
    failed += run_batch_tests();
    failed += run_json_property_tests();
    return failed;
}

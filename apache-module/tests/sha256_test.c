/* rl_sha256 against the FIPS 180-4 / NIST example vectors. */
#include <string.h>

#include "rl_sha256.h"
#include "unit.h"

static void nist_vectors(void **state) {
    char hex[65];
    (void)state;
    rl_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    rl_sha256_hex("abc", 3, hex);
    assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    rl_sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
    assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

static void incremental_updates_match_one_shot(void **state) {
    rl_sha256 c;
    unsigned char d[32];
    char chunk[1000];
    int i;
    static const unsigned char million_a[8] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92};
    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    rl_sha256_init(&c);
    for (i = 0; i < 1000; i++) rl_sha256_update(&c, chunk, sizeof(chunk));
    rl_sha256_final(&c, d);
    /* SHA-256 of one million 'a' starts cdc76e5c9914fb92. */
    assert_memory_equal(d, million_a, sizeof(million_a));
}

int run_sha256_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(nist_vectors),
        cmocka_unit_test(incremental_updates_match_one_shot),
    };
    return cmocka_run_group_tests_name("rl_sha256", tests, NULL, NULL);
}

/* rl_ja4h against fingerprints pinned from FoxIO's reference implementation. */
#include <string.h>

#include "rl_ja4h.h"
#include "unit.h"

/* The request of FoxIO's own JA4H unit test (rust/ja4/src/http.rs), in wire order. */
static const char *const CNN_NAMES[] = {
    "Host", "Cookie", "Sec-Ch-Ua", "Sec-Ch-Ua-Mobile", "User-Agent", "Sec-Ch-Ua-Platform",
    "Accept", "Sec-Fetch-Site", "Sec-Fetch-Mode", "Sec-Fetch-Dest", "Sec-Fetch-Mode",
    "Sec-Fetch-Dest", "Referer", "Accept-Encoding", "Accept-Language"};
static const char CNN_COOKIE[] =
    "FastAB=0=6859,1=8174,2=4183,3=3319,4=3917,5=2557,6=4259,7=6070,8=0804,9=6453,10=1942,"
    "11=4435,12=4143,13=9445,14=6957,15=8682,16=1885,17=1825,18=3760,19=0929; sato=1; "
    "countryCode=US; stateCode=VA; geoData=purcellville|VA|20132|US|NA|-400|broadband|39.160|"
    "-77.700|511; usprivacy=1---; umto=1; _dd_s=logs=1&id=b5c2d770-eaba-4847-8202-"
    "390c4552ff9a&created=1686159462724&expire=1686160422726";

static void foxio_reference_request(void **state) {
    char out[RL_JA4H_MAX];
    rl_ja4h_input in = {"GET", "HTTP/1.1", CNN_NAMES, 15, "en-US,en;q=0.9", CNN_COOKIE};
    (void)state;
    assert_int_equal(rl_ja4h(&in, out), 0);
    assert_string_equal(out, "ge11cr13enus_88d2d584d47f_0f2659b474bf_161698816dab");
}

static void cookie_order_does_not_matter(void **state) {
    char a[RL_JA4H_MAX], b[RL_JA4H_MAX];
    const char *names[] = {"Host", "Cookie"};
    rl_ja4h_input x = {"GET", "HTTP/1.1", names, 2, NULL, "b=2; a=1; c=3"};
    rl_ja4h_input y = {"GET", "HTTP/1.1", names, 2, NULL, "c=3; a=1; b=2"};
    (void)state;
    assert_int_equal(rl_ja4h(&x, a), 0);
    assert_int_equal(rl_ja4h(&y, b), 0);
    assert_string_equal(a, b);
    assert_memory_equal(a, "ge11cn01000", 11);
}

static void request_without_headers_or_cookies(void **state) {
    char out[RL_JA4H_MAX];
    /* http-empty-useragent.pcap in FoxIO's captures: one header, User-Agent, HTTP/1.0. */
    const char *names[] = {"User-Agent"};
    rl_ja4h_input in = {"GET", "HTTP/1.0", names, 1, NULL, NULL};
    rl_ja4h_input none = {"POST", "HTTP/1.1", NULL, 0, NULL, NULL};
    (void)state;
    assert_int_equal(rl_ja4h(&in, out), 0);
    assert_string_equal(out, "ge10nn010000_b8bcd45ac095_000000000000_000000000000");
    assert_int_equal(rl_ja4h(&none, out), 0);
    assert_string_equal(out, "po11nn000000_000000000000_000000000000_000000000000");
}

static void http2_uses_lower_case_names(void **state) {
    char out[RL_JA4H_MAX];
    const char *names[] = {"user-agent", "cookie", "referer", "accept"};
    rl_ja4h_input in = {"GET", "HTTP/2", names, 4, "fr-CH, fr;q=0.9", "a=1"};
    (void)state;
    assert_int_equal(rl_ja4h(&in, out), 0);
    assert_memory_equal(out, "ge20cr02frch_", 13);
}

static void header_count_is_capped_at_99(void **state) {
    char out[RL_JA4H_MAX];
    const char *names[150];
    int i;
    rl_ja4h_input in = {"DELETE", "HTTP/1.1", names, 150, "x", NULL};
    (void)state;
    for (i = 0; i < 150; i++) names[i] = "X-A";
    assert_int_equal(rl_ja4h(&in, out), 0);
    assert_memory_equal(out, "de11nn99x000_", 13);
}

static void language_and_version_edge_cases(void **state) {
    char out[RL_JA4H_MAX];
    rl_ja4h_input in = {"g", "HTTP/0.9", NULL, 0, "  zh-Hant-TW,en", NULL};
    (void)state;
    assert_int_equal(rl_ja4h(&in, out), 0);
    /* Short method padded, unknown version 00, "zh-Hant-TW" -> "zhhanttw" -> "zhha". */
    assert_memory_equal(out, "g000nn00zhha_", 13);
    /* Byte-wise: "é" is two bytes of the four. */
    in.accept_language = "\xc3\xa9-ab";
    assert_int_equal(rl_ja4h(&in, out), 0);
    assert_memory_equal(out, "g000nn00\xc3\xa9" "ab_", 13);
    assert_string_equal(rl_ja4h_version("HTTP/2.0"), "20");
    assert_string_equal(rl_ja4h_version("HTTP/3"), "30");
    assert_string_equal(rl_ja4h_version(NULL), "00");
}

static void memo_gives_the_same_results(void **state) {
    static rl_ja4h_memo memo;
    char direct[RL_JA4H_MAX], cached[RL_JA4H_MAX];
    const char *names[] = {"Host", "Cookie", "Accept"};
    const char *names2[] = {"Host", "Accept", "Cookie"};
    rl_ja4h_input a = {"GET", "HTTP/1.1", names, 3, "en", "a=1"};
    rl_ja4h_input b = {"GET", "HTTP/1.1", names2, 3, "en", "a=1"};   /* other order */
    rl_ja4h_input c = {"GET", "HTTP/1.1", names, 3, "en", NULL};    /* cookie gone */
    rl_ja4h_input d = {"GET", "HTTP/1.1", names, 3, "en", ""};      /* empty cookie */
    const rl_ja4h_input *seq[] = {&a, &a, &b, &a, &c, &d, &c, &a};
    size_t i;
    (void)state;
    memset(&memo, 0, sizeof(memo));
    for (i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
        assert_int_equal(rl_ja4h(seq[i], direct), 0);
        assert_int_equal(rl_ja4h_cached(&memo, seq[i], cached), 0);
        assert_string_equal(cached, direct);
    }
    /* Names given as one key (the module's JSON items) instead of one by one: the memo tells
     * the forms apart and still gives what rl_ja4h gives. */
    {
        rl_ja4h_input ka = a, kb = b, kc = c, kd = d, ka2 = a;
        /* rl_ja4h_memo_lookup answers only for the same inputs as the last one cached, and
         * only for inputs with a names key. */
        const rl_ja4h_input *seq2[] = {&ka, &a, &ka, &ka2, &kb, &ka, &b, &kb, &kb, &kc, &kd, &kd, &kc};
        const int hit[] = {0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 1, 0};
        char looked[RL_JA4H_MAX];
        ka.names_key = kc.names_key = kd.names_key = "\"Host\",\"Cookie\",\"Accept\"";
        ka2.names_key = "\"Host\",\"Cookie\",\"Accept\"";
        ka.names_key_len = kc.names_key_len = kd.names_key_len = ka2.names_key_len =
            strlen(ka.names_key);
        kb.names_key = "\"Host\",\"Accept\",\"Cookie\"";
        kb.names_key_len = strlen(kb.names_key);
        memset(&memo, 0, sizeof(memo));
        for (i = 0; i < sizeof(seq2) / sizeof(seq2[0]); i++) {
            assert_int_equal(rl_ja4h(seq2[i], direct), 0);
            assert_int_equal(rl_ja4h_memo_lookup(&memo, seq2[i], looked), hit[i]);
            if (hit[i]) assert_string_equal(looked, direct);
            assert_int_equal(rl_ja4h_cached(&memo, seq2[i], cached), 0);
            assert_string_equal(cached, direct);
        }
    }
    /* Inputs too long for the memo key are computed directly. */
    {
        static char big[2 * RL_JA4H_MEMO_KEY];
        rl_ja4h_input e = {"GET", "HTTP/1.1", names, 3, "en", big};
        memset(big, 'x', sizeof(big) - 1);
        assert_int_equal(rl_ja4h(&e, direct), 0);
        assert_int_equal(rl_ja4h_cached(&memo, &e, cached), 0);
        assert_string_equal(cached, direct);
    }
}

static void cookies_sort_by_name_stably(void **state) {
    char got[RL_JA4H_MAX], want[RL_JA4H_MAX];
    const char *names[] = {"Cookie"};
    /* Equal names keep their order; "a" sorts before "a!b" by name although "a!b=" < "a=". */
    rl_ja4h_input in = {"GET", "HTTP/1.1", names, 1, NULL, "a=2; a!b=3; a=1"};
    rl_ja4h_input same = {"GET", "HTTP/1.1", names, 1, NULL, "a=2; a=1; a!b=3"};
    (void)state;
    assert_int_equal(rl_ja4h(&in, got), 0);
    assert_int_equal(rl_ja4h(&same, want), 0);
    assert_string_equal(got, want);
    /* c = sha256("a,a,a!b")[:12], d = sha256("a=2,a=1,a!b=3")[:12] */
    assert_string_equal(got + 26, "2007029ccf0d_11d9e004f4a4");
}

static void first_cookie_header_of_a_merged_value(void **state) {
    (void)state;
    assert_int_equal(rl_ja4h_first_cookie_len("a=1; b=2, c=3", 2), 8);
    assert_int_equal(rl_ja4h_first_cookie_len("a=1; b=2, c=3", 1), 13);
    assert_int_equal(rl_ja4h_first_cookie_len("a=1", 3), 3);
    assert_int_equal(rl_ja4h_first_cookie_len(NULL, 1), 0);
}

int run_ja4h_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(foxio_reference_request),
        cmocka_unit_test(cookie_order_does_not_matter),
        cmocka_unit_test(request_without_headers_or_cookies),
        cmocka_unit_test(http2_uses_lower_case_names),
        cmocka_unit_test(header_count_is_capped_at_99),
        cmocka_unit_test(language_and_version_edge_cases),
        cmocka_unit_test(memo_gives_the_same_results),
        cmocka_unit_test(cookies_sort_by_name_stably),
        cmocka_unit_test(first_cookie_header_of_a_merged_value),
    };
    return cmocka_run_group_tests_name("rl_ja4h", tests, NULL, NULL);
}

/* rl_event: the whole JSON line, field by field. */
#include <string.h>

#include "rl_event.h"
#include "unit.h"

static void full_event_line(void **state) {
    rl_buf b;
    const rl_header headers[] = {{"user-agent", "curl/8 \"x\"", 0}, {"cookie", "secret=1", 1}};
    const char *names[] = {"Host", "User-Agent", "Cookie"};
    rl_event e;
    (void)state;
    memset(&e, 0, sizeof(e));
    e.ts_us = 1700000000123456ULL;
    e.src_ip = "127.0.0.1";
    e.src_port = 54321;
    e.dst_ip = "127.0.0.1";
    e.dst_port = 8443;
    e.method = "GET";
    e.host = "example.test";
    e.path = "/a b";
    e.query = "q=1&r=\xff";
    e.protocol = "HTTP/1.1";
    e.status = 400;
    e.tls_sni = "example.test";
    e.tls_protocol = "TLSv1.3";
    e.tls_cipher = "TLS_AES_256_GCM_SHA384";
    e.headers = headers;
    e.n_headers = 2;
    e.header_names = names;
    e.n_header_names = 3;
    e.conn_request_index = 2;
    e.pid = 4242;
    e.client_ip = "203.0.113.9";
    e.ja4h = "ge11cn02enus_aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc";
    e.max_len = 1024;
    rl_buf_init(&b, 16);
    rl_event_json(&b, &e);
    rl_buf_putc(&b, '\0');
    assert_string_equal(
        b.data,
        "{\"type\":\"http\",\"ts_us\":1700000000123456,\"src_ip\":\"127.0.0.1\",\"src_port\":54321,"
        "\"dst_ip\":\"127.0.0.1\",\"dst_port\":8443,\"method\":\"GET\",\"host\":\"example.test\","
        "\"path\":\"/a b\",\"query\":\"q=1&r=\\ufffd\",\"protocol\":\"HTTP/1.1\",\"status\":400,"
        "\"tls_sni\":\"example.test\",\"tls_protocol\":\"TLSv1.3\","
        "\"tls_cipher\":\"TLS_AES_256_GCM_SHA384\","
        "\"headers\":{\"user-agent\":\"curl/8 \\\"x\\\"\",\"cookie\":\"present\"},"
        "\"header_names\":[\"Host\",\"User-Agent\",\"Cookie\"],\"conn_request_index\":2,"
        "\"pid\":4242,\"client_ip\":\"203.0.113.9\","
        "\"ja4h\":\"ge11cn02enus_aaaaaaaaaaaa_bbbbbbbbbbbb_cccccccccccc\"}\n");
    /* The cookie's value never reaches the line. */
    assert_null(strstr(b.data, "secret"));
    rl_buf_free(&b);
}

/* A header's name prepared as JSON once (what the module does per configured header) gives
 * the same line as escaping it per request; a hostile configured name is escaped both ways. */
static void prepared_header_names_give_the_same_line(void **state) {
    const char *odd = "x-\"odd\"";
    rl_buf name, plain, prepared;
    rl_header h[2] = {{"user-agent", "ua", 0}, {odd, "v", 0}};
    rl_event e;
    size_t i;
    (void)state;
    memset(&e, 0, sizeof(e));
    e.src_ip = e.dst_ip = e.method = e.path = e.protocol = "";
    e.headers = h;
    e.n_headers = 2;
    e.conn_request_index = -1;
    rl_buf_init(&plain, 0);
    rl_event_json(&plain, &e);
    rl_buf_init(&name, 0);
    for (i = 0; i < 2; i++) {
        size_t at = name.len;
        rl_json_cstr(&name, h[i].name, RL_HEADER_NAME_MAX);
        h[i].json_name_len = name.len - at;
    }
    h[0].json_name = name.data;
    h[1].json_name = name.data + h[0].json_name_len;
    rl_buf_init(&prepared, 0);
    rl_event_json(&prepared, &e);
    assert_int_equal(plain.len, prepared.len);
    assert_memory_equal(plain.data, prepared.data, plain.len);
    rl_buf_putc(&prepared, '\0');
    assert_non_null(strstr(prepared.data, "\"x-\\\"odd\\\"\":\"v\""));
    rl_buf_free(&name);
    rl_buf_free(&plain);
    rl_buf_free(&prepared);
}

static void optional_fields_are_omitted(void **state) {
    rl_buf b;
    rl_event e;
    (void)state;
    memset(&e, 0, sizeof(e));
    e.ts_us = 1;
    e.src_ip = "::1";
    e.src_port = 1;
    e.dst_ip = "::1";
    e.dst_port = 80;
    e.method = "BREW";
    e.path = "/";
    e.protocol = "HTTP/1.0";
    e.conn_request_index = -1;
    rl_buf_init(&b, 0);
    rl_event_json(&b, &e);
    rl_buf_putc(&b, '\0');
    assert_string_equal(b.data,
                        "{\"type\":\"http\",\"ts_us\":1,\"src_ip\":\"::1\",\"src_port\":1,"
                        "\"dst_ip\":\"::1\",\"dst_port\":80,\"method\":\"BREW\",\"path\":\"/\","
                        "\"protocol\":\"HTTP/1.0\",\"headers\":{},\"header_names\":[]}\n");
    rl_buf_free(&b);
}

static void max_len_applies_to_client_controlled_values(void **state) {
    rl_buf b;
    rl_event e;
    const rl_header headers[] = {{"user-agent", "0123456789abcdef0123", 0}};
    (void)state;
    memset(&e, 0, sizeof(e));
    e.src_ip = e.dst_ip = "10.0.0.1";
    e.method = "GET";
    e.path = "/0123456789abcdef0123";
    e.protocol = "HTTP/1.1";
    e.headers = headers;
    e.n_headers = 1;
    e.conn_request_index = -1;
    e.max_len = 16;
    rl_buf_init(&b, 0);
    rl_event_json(&b, &e);
    rl_buf_putc(&b, '\0');
    assert_non_null(strstr(b.data, "\"path\":\"/0123456789abcde" RL_TRUNC_MARKER "\""));
    assert_non_null(strstr(b.data, "\"user-agent\":\"0123456789abcdef" RL_TRUNC_MARKER "\""));
    /* One line: the only newline is the terminator. */
    assert_ptr_equal(strchr(b.data, '\n'), b.data + b.len - 2);
    rl_buf_free(&b);
}

/* The connection's address fields and the wire's name items, prepared once, give the same
 * line as the fields written per request. */
static void prepared_addresses_and_names_give_the_same_line(void **state) {
    const char *names[] = {"Host", "User-Agent"};
    rl_buf fields, prepared, addr;
    rl_event e;
    (void)state;
    memset(&e, 0, sizeof(e));
    e.src_ip = "2001:db8::1";
    e.src_port = 40000;
    e.dst_ip = "192.0.2.7";
    e.dst_port = 443;
    e.method = "GET";
    e.path = "/";
    e.protocol = "HTTP/1.1";
    e.header_names = names;
    e.n_header_names = 2;
    e.conn_request_index = -1;
    rl_buf_init(&fields, 0);
    rl_event_json(&fields, &e);
    rl_buf_init(&addr, 0);
    rl_event_addr_json(&addr, e.src_ip, e.src_port, e.dst_ip, e.dst_port);
    e.addr_json = addr.data;
    e.addr_json_len = addr.len;
    e.src_ip = e.dst_ip = "wrong";
    e.header_names_json = "\"Host\",\"User-Agent\"";
    e.header_names_json_len = strlen(e.header_names_json);
    e.n_header_names = 0;
    rl_buf_init(&prepared, 0);
    rl_event_json(&prepared, &e);
    assert_int_equal(prepared.len, fields.len);
    assert_memory_equal(prepared.data, fields.data, fields.len);
    rl_buf_free(&fields);
    rl_buf_free(&prepared);
    rl_buf_free(&addr);
}

int run_event_tests(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(full_event_line),
        cmocka_unit_test(optional_fields_are_omitted),
        cmocka_unit_test(prepared_header_names_give_the_same_line),
        cmocka_unit_test(max_len_applies_to_client_controlled_values),
        cmocka_unit_test(prepared_addresses_and_names_give_the_same_line),
    };
    return cmocka_run_group_tests_name("rl_event", tests, NULL, NULL);
}

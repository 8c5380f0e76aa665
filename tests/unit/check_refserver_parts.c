/* tests/unit/check_refserver_parts.c - unit tests of fleetsim-target's self-contained parts: fault
 * rule parsing and deterministic draws, the per-IP token bucket and its bounded table, the
 * allocation-free JSON scanner, Go-compatible JSON string escaping, API-key checks and the
 * endpoint names. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "refserver/auth.h"
#include "refserver/endpoint.h"
#include "refserver/fault.h"
#include "refserver/json_scan.h"
#include "refserver/json_write.h"
#include "refserver/ratelimit.h"
#include "refserver/server.h"
#include "tests/lib/testenv.h"

#define NS_PER_MS 1000000ULL
#define NS_PER_S 1000000000ULL

START_TEST(t_fault_parse_kinds)
{
    struct fault_rule r;
    char err[160];
    ck_assert_int_eq(fault_parse("heartbeat:latency=50ms", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.endpoint, EP_HEARTBEAT);
    ck_assert_int_eq(r.kind, FAULT_LATENCY);
    ck_assert_uint_eq(r.min_ns, 50 * NS_PER_MS);
    ck_assert_uint_eq(r.max_ns, 50 * NS_PER_MS);
    ck_assert_int_eq(fault_parse("work:latency=10ms-80ms", &r, err, sizeof err), 0);
    ck_assert_uint_eq(r.min_ns, 10 * NS_PER_MS);
    ck_assert_uint_eq(r.max_ns, 80 * NS_PER_MS);
    ck_assert_int_eq(fault_parse("*:drop=0.01", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.endpoint, -1);
    ck_assert_int_eq(r.kind, FAULT_DROP);
    ck_assert(r.share > 0.0099 && r.share < 0.0101);
    ck_assert_int_eq(fault_parse("heartbeat:error=5%", &r, err, sizeof err), 0);
    ck_assert(r.share > 0.0499 && r.share < 0.0501);
    ck_assert_int_eq(fault_parse("csr:stall=2s", &r, err, sizeof err), 0);
    ck_assert_int_eq(r.kind, FAULT_STALL);
    ck_assert_uint_eq(r.min_ns, 2 * NS_PER_S);
}
END_TEST

START_TEST(t_fault_parse_errors)
{
    struct fault_rule r = {.endpoint = 77};
    char err[160];
    const char *bad[] = {"heartbeat",
                         "heartbeat:latency",
                         "hearbeat:error=0.1",
                         "heartbeat:boom=1",
                         "heartbeat:error=1.5",
                         "heartbeat:error=x",
                         "heartbeat:latency=80ms-10ms",
                         "heartbeat:latency=5",
                         ":error=0.1",
                         "heartbeat:stall=0s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(fault_parse(bad[i], &r, err, sizeof err) == -EINVAL, "%s", bad[i]);
        ck_assert_msg(err[0] != '\0', "no reason for %s", bad[i]);
    }
    ck_assert_int_eq(r.endpoint, 77); /* untouched on failure */
    fault_parse("hearbeat:error=0.1", &r, err, sizeof err);
    ck_assert_ptr_nonnull(strstr(err, "hearbeat"));
}
END_TEST

START_TEST(t_fault_decide_shares)
{
    const char *specs[] = {"heartbeat:error=0.25", "work:drop=1", "csr:latency=10ms-20ms"};
    struct fault_set fs;
    char err[160];
    ck_assert_int_eq(fault_set_init(&fs, specs, 3, 42, err, sizeof err), 0);
    struct fault_decision d;
    int errors = 0;
    for (int i = 0; i < 10000; i++) {
        fault_decide(&fs, EP_HEARTBEAT, &d);
        errors += d.error;
        ck_assert(!d.drop && d.delay_ns == 0);
    }
    ck_assert_int_gt(errors, 2300);
    ck_assert_int_lt(errors, 2700);
    ck_assert(fault_decide(&fs, EP_WORK, &d) && d.drop);
    for (int i = 0; i < 1000; i++) {
        ck_assert(fault_decide(&fs, EP_CSR, &d));
        ck_assert(d.delay_ns >= 10 * NS_PER_MS && d.delay_ns <= 20 * NS_PER_MS);
    }
    ck_assert(!fault_decide(&fs, EP_HEALTH, &d));
    /* deterministic: the same seed gives the same sequence */
    struct fault_set a, b;
    fault_set_init(&a, specs, 3, 7, err, sizeof err);
    fault_set_init(&b, specs, 3, 7, err, sizeof err);
    for (int i = 0; i < 100; i++) {
        struct fault_decision da, db;
        fault_decide(&a, EP_HEARTBEAT, &da);
        fault_decide(&b, EP_HEARTBEAT, &db);
        ck_assert_int_eq(da.error, db.error);
    }
}
END_TEST

static struct sockaddr_in ip4(const char *s)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, s, &a.sin_addr);
    return a;
}

START_TEST(t_ratelimit_bucket)
{
    struct ratelimit *rl = ratelimit_new(50.0, 100.0);
    ck_assert_ptr_nonnull(rl);
    struct sockaddr_in a = ip4("127.0.0.1"), b = ip4("127.0.0.2");
    uint64_t now = 1000 * NS_PER_S;
    int allowed = 0;
    for (int i = 0; i < 150; i++)
        allowed += ratelimit_allow(rl, (struct sockaddr *)&a, now);
    ck_assert_int_eq(allowed, 100); /* burst */
    /* another IP has its own bucket */
    ck_assert(ratelimit_allow(rl, (struct sockaddr *)&b, now));
    /* 100 ms later: 5 tokens */
    allowed = 0;
    for (int i = 0; i < 10; i++)
        allowed += ratelimit_allow(rl, (struct sockaddr *)&a, now + 100 * NS_PER_MS);
    ck_assert_int_eq(allowed, 5);
    ck_assert_uint_eq(ratelimit_tracked(rl), 2);
    ratelimit_free(rl);
    ck_assert_ptr_null(ratelimit_new(0.0, 10.0));
}
END_TEST

START_TEST(t_ratelimit_bounded)
{
    struct ratelimit *rl = ratelimit_new(10.0, 20.0);
    uint64_t now = 5 * NS_PER_S;
    /* far more distinct IPs than slots: the table stays bounded and keeps answering */
    for (uint32_t i = 0; i < 4 * RATELIMIT_SLOTS; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(0x0a000000u + i)};
        ck_assert(ratelimit_allow(rl, (struct sockaddr *)&a, now + i * 1000ULL));
        ck_assert_uint_le(ratelimit_tracked(rl), RATELIMIT_SLOTS / 4 * 3);
    }
    /* an active IP keeps its (emptied) bucket while idle ones are evicted */
    struct sockaddr_in hot = ip4("127.0.0.9");
    uint64_t t = 100 * NS_PER_S;
    for (int i = 0; i < 25; i++)
        ratelimit_allow(rl, (struct sockaddr *)&hot, t);
    ck_assert(!ratelimit_allow(rl, (struct sockaddr *)&hot, t));
    ratelimit_free(rl);
}
END_TEST

START_TEST(t_json_scan_fields)
{
    char host[32], os[8], ver[16];
    struct jscan_field f[] = {{.name = "hostname", .out = host, .cap = sizeof host},
                              {.name = "os", .out = os, .cap = sizeof os},
                              {.name = "version", .out = ver, .cap = sizeof ver}};
    const char *body = " {\"architecture\":\"amd64\",\"hostname\":\"h\\u00e9\\n1\","
                       "\"nested\":{\"a\":[1,2.5e3,true,null,{\"b\":\"c\"}]},\"os\":\"linux\","
                       "\"version\":null} trailing";
    ck_assert_int_eq(jscan_object(body, strlen(body), f, 3), 0);
    ck_assert(f[0].present && f[1].present && !f[2].present);
    ck_assert_str_eq(host, "h\xc3\xa9\n1");
    ck_assert_uint_eq(f[0].len, 5);
    ck_assert_str_eq(os, "linux");
    ck_assert_str_eq(ver, "");
    /* surrogate pair */
    const char *emoji = "{\"os\":\"\\ud83d\\ude00\"}";
    ck_assert_int_eq(jscan_object(emoji, strlen(emoji), f, 3), 0);
    ck_assert_str_eq(os, "\xf0\x9f\x98\x80");
}
END_TEST

START_TEST(t_json_scan_errors)
{
    char v[8];
    struct jscan_field f[] = {{.name = "status", .out = v, .cap = sizeof v}};
    const char *bad[] = {"",
                         "   ",
                         "[]",
                         "{",
                         "{\"status\"}",
                         "{\"status\":}",
                         "{\"status\":\"x\",}",
                         "{\"status\":1}",
                         "{\"a\":01}",
                         "{\"a\":tru}",
                         "{\"status\":\"a\x01\"}",
                         "{\"a\":\"\\x\"}",
                         "\"str\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(jscan_object(bad[i], strlen(bad[i]), f, 1) == -EINVAL, "%s", bad[i]);
    const char *big = "{\"status\":\"0123456789\"}";
    ck_assert_int_eq(jscan_object(big, strlen(big), f, 1), -ENOSPC);
    const char *ok = "{}";
    ck_assert_int_eq(jscan_object(ok, 2, f, 1), 0);
    ck_assert(!f[0].present);
    /* nesting deeper than the limit is refused, not a stack overflow */
    char deep[400];
    size_t n = 0;
    deep[n++] = '{';
    memcpy(deep + n, "\"a\":", 4);
    n += 4;
    for (int i = 0; i < 100; i++)
        deep[n++] = '[';
    for (int i = 0; i < 100; i++)
        deep[n++] = ']';
    deep[n++] = '}';
    ck_assert_int_eq(jscan_object(deep, n, f, 1), -EINVAL);
}
END_TEST

START_TEST(t_json_write_escapes)
{
    struct evbuffer *b = evbuffer_new();
    ck_assert_int_eq(jw_string(b, "a\"b\\c\n<x>&\x01\xe2\x80\xa8z"), 0);
    size_t len = evbuffer_get_length(b);
    char out[128];
    evbuffer_remove(b, out, len);
    out[len] = '\0';
    ck_assert_str_eq(out, "\"a\\\"b\\\\c\\n\\u003cx\\u003e\\u0026\\u0001\\u2028z\"");
    evbuffer_free(b);
}
END_TEST

START_TEST(t_auth_keys)
{
    struct auth a;
    const char *keys[] = {"test-key-2026", "second"};
    ck_assert_int_eq(auth_init(&a, keys, 2), 0);
    int idx = -1;
    ck_assert_int_eq(auth_check(&a, NULL, &idx), AUTH_MISSING);
    ck_assert_int_eq(auth_check(&a, "", &idx), AUTH_MISSING);
    ck_assert_int_eq(auth_check(&a, "Basic abc", &idx), AUTH_BAD_FORMAT);
    ck_assert_int_eq(auth_check(&a, "Bearer ", &idx), AUTH_BAD_FORMAT);
    ck_assert_int_eq(auth_check(&a, "bearer test-key-2026", &idx), AUTH_BAD_FORMAT);
    ck_assert_int_eq(auth_check(&a, "Bearer test-key-2027", &idx), AUTH_INVALID_KEY);
    ck_assert_int_eq(auth_check(&a, "Bearer test-key-2026", &idx), AUTH_OK);
    ck_assert_int_eq(idx, 0);
    ck_assert_int_eq(auth_check(&a, "Bearer second", &idx), AUTH_OK);
    ck_assert_int_eq(idx, 1);
    ck_assert_str_eq(auth_failure_body(AUTH_INVALID_KEY), "{\"error\":\"Invalid API key\"}");
    auth_clear(&a);
    /* no key given: one is generated, 64 hex characters, and it is accepted */
    ck_assert_int_eq(auth_init(&a, NULL, 0), 0);
    ck_assert_uint_eq(strlen(a.first_key), AUTH_GENERATED_KEY_LEN);
    char hdr[80];
    snprintf(hdr, sizeof hdr, "Bearer %s", a.first_key);
    ck_assert_int_eq(auth_check(&a, hdr, &idx), AUTH_OK);
    auth_clear(&a);
    const char *empty[] = {""};
    ck_assert_int_eq(auth_init(&a, empty, 1), -EINVAL);
}
END_TEST

START_TEST(t_endpoint_names)
{
    for (int i = 0; i < EP_COUNT; i++)
        ck_assert_int_eq(endpoint_from_name(endpoint_name((enum target_endpoint)i)), i);
    ck_assert_int_eq(endpoint_from_name("nope"), -1);
    ck_assert_str_eq(endpoint_name(EP_ACME_RENEWAL_INFO), "acme_renewal_info");
    ck_assert(endpoint_is_acme(EP_ACME_NONCE) && !endpoint_is_acme(EP_HEALTH));
}
END_TEST

START_TEST(t_config_check)
{
    struct target_config c;
    char err[256];
    target_config_defaults(&c);
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), 0);
    c.listen_host = "192.0.2.3";
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "loopback"));
    c.allow_remote = true;
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), 0);
    c.listen_host = "localhost";
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
    target_config_defaults(&c);
    c.tls_cert_file = "/nonexistent";
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
    target_config_defaults(&c);
    c.faults[0] = "heartbeat:explode=1";
    c.n_faults = 1;
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "explode"));
    target_config_defaults(&c);
    c.fleet_prefix = "Bad-Prefix";
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
    target_config_defaults(&c);
    c.seed_certs = 5;
    ck_assert_int_eq(target_config_check(&c, err, sizeof err), -EINVAL);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("target_parts");
    TCase *tc = testenv_tcase(s, "parts", 0);
    tcase_add_test(tc, t_fault_parse_kinds);
    tcase_add_test(tc, t_fault_parse_errors);
    tcase_add_test(tc, t_fault_decide_shares);
    tcase_add_test(tc, t_ratelimit_bucket);
    tcase_add_test(tc, t_ratelimit_bounded);
    tcase_add_test(tc, t_json_scan_fields);
    tcase_add_test(tc, t_json_scan_errors);
    tcase_add_test(tc, t_json_write_escapes);
    tcase_add_test(tc, t_auth_keys);
    tcase_add_test(tc, t_endpoint_names);
    tcase_add_test(tc, t_config_check);
    return testenv_run(s);
}

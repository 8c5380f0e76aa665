/* tests/unit/check_identity.c - sim/identity: the fleet's ids and names have the exact shapes of
 * docs/architecture.md ("Fleet identity"), prefixes are validated, ids parse back, and per-agent
 * metadata and RNG seeds are deterministic functions of (seed, index) that follow the OS mix. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim/identity.h"
#include "tests/lib/testenv.h"

START_TEST(test_formats)
{
    char buf[IDENTITY_NAME_MAX];
    ck_assert_int_eq(identity_agent_id(buf, sizeof buf, "loadtest", 1), 17);
    ck_assert_str_eq(buf, "ag-loadtest-00001");
    identity_agent_name(buf, sizeof buf, "loadtest", 42);
    ck_assert_str_eq(buf, "loadtest-agent-00042");
    identity_agent_hostname(buf, sizeof buf, "loadtest", 7);
    ck_assert_str_eq(buf, "loadtest-00007.fleet.example.test");
    identity_target_id(buf, sizeof buf, "loadtest", 123456);
    ck_assert_str_eq(buf, "tgt-loadtest-123456");
    identity_target_name(buf, sizeof buf, "p1");
    ck_assert_str_eq(buf, "p1-target");
    identity_cert_id(buf, sizeof buf, "loadtest", 9);
    ck_assert_str_eq(buf, "mc-loadtest-00009");
    identity_cert_name(buf, sizeof buf, "loadtest", 9);
    ck_assert_str_eq(buf, "loadtest-bulk-00009");
    identity_cert_cn(buf, sizeof buf, "loadtest", 9);
    ck_assert_str_eq(buf, "loadtest-00009.certs.example.test");
    identity_team_id(buf, sizeof buf, "loadtest");
    ck_assert_str_eq(buf, "t-loadtest");
    identity_owner_id(buf, sizeof buf, "loadtest");
    ck_assert_str_eq(buf, "o-loadtest");
    identity_policy_id(buf, sizeof buf, "loadtest");
    ck_assert_str_eq(buf, "rp-loadtest");
}
END_TEST

START_TEST(test_too_small_buffer)
{
    char small[8];
    ck_assert_int_eq(identity_agent_id(small, sizeof small, "loadtest", 1), -ENOSPC);
    ck_assert_str_eq(small, "");
}
END_TEST

START_TEST(test_prefix_check)
{
    ck_assert_int_eq(identity_prefix_check("loadtest"), 0);
    ck_assert_int_eq(identity_prefix_check("a"), 0);
    ck_assert_int_eq(identity_prefix_check("a23456789012345678901234"), 0); /* 24 chars */
    ck_assert_int_eq(identity_prefix_check("a234567890123456789012345"), -EINVAL);
    ck_assert_int_eq(identity_prefix_check(""), -EINVAL);
    ck_assert_int_eq(identity_prefix_check(NULL), -EINVAL);
    ck_assert_int_eq(identity_prefix_check("1abc"), -EINVAL);
    ck_assert_int_eq(identity_prefix_check("Load"), -EINVAL);
    ck_assert_int_eq(identity_prefix_check("load-test"), -EINVAL);
    ck_assert_int_eq(identity_prefix_check("load%"), -EINVAL);
}
END_TEST

START_TEST(test_parse_index)
{
    uint32_t idx = 0;
    ck_assert_int_eq(identity_parse_index("ag-loadtest-00042", "ag", "loadtest", &idx), 0);
    ck_assert_uint_eq(idx, 42);
    ck_assert_int_eq(identity_parse_index("tgt-loadtest-123456", "tgt", "loadtest", &idx), 0);
    ck_assert_uint_eq(idx, 123456);
    idx = 7;
    ck_assert_int_eq(identity_parse_index("ag-loadtest-x-00001", "ag", "loadtest", &idx), -EINVAL);
    ck_assert_int_eq(identity_parse_index("ag-loadtest-", "ag", "loadtest", &idx), -EINVAL);
    ck_assert_int_eq(identity_parse_index("ag-loadtes-00001", "ag", "loadtest", &idx), -EINVAL);
    ck_assert_int_eq(identity_parse_index("mc-loadtest-00001", "ag", "loadtest", &idx), -EINVAL);
    ck_assert_int_eq(identity_parse_index("ag-loadtest-99999999999", "ag", "loadtest", &idx),
                     -EINVAL);
    ck_assert_uint_eq(idx, 7); /* untouched on failure */
}
END_TEST

START_TEST(test_cert_agent)
{
    ck_assert_uint_eq(identity_cert_agent(1, 10), 1);
    ck_assert_uint_eq(identity_cert_agent(10, 10), 10);
    ck_assert_uint_eq(identity_cert_agent(11, 10), 1);
    ck_assert_uint_eq(identity_cert_agent(25, 10), 5);
}
END_TEST

START_TEST(test_target_host_config)
{
    /* exactly floor(N * pct / 100) of targets 1..N, spread evenly */
    uint32_t counts[] = {0, 25, 50, 100};
    for (size_t k = 0; k < 4; k++) {
        uint32_t n = 0;
        for (uint32_t i = 1; i <= 1000; i++)
            n += (uint32_t)identity_target_has_host(i, counts[k]);
        ck_assert_uint_eq(n, 10 * counts[k]);
    }
    ck_assert(!identity_target_has_host(1, 50) && identity_target_has_host(2, 50));
    ck_assert(identity_target_has_host(4, 25) && !identity_target_has_host(5, 25));
    char buf[IDENTITY_NAME_MAX * 2];
    ck_assert_int_eq(identity_target_config(buf, sizeof buf, "lt", 1, 50), 2);
    ck_assert_str_eq(buf, "{}");
    identity_target_config(buf, sizeof buf, "lt", 2, 50);
    ck_assert_str_eq(buf, "{\"host\":\"lt-00002.fleet.example.test\",\"port\":443}");
    ck_assert_int_eq(identity_target_config(buf, 10, "lt", 2, 100), -ENOSPC);
}
END_TEST

START_TEST(test_rng_deterministic)
{
    ck_assert_uint_eq(identity_agent_rng_seed(42, 1), identity_agent_rng_seed(42, 1));
    ck_assert_uint_ne(identity_agent_rng_seed(42, 1), identity_agent_rng_seed(42, 2));
    ck_assert_uint_ne(identity_agent_rng_seed(42, 1), identity_agent_rng_seed(43, 1));
    uint64_t a = 5, b = 5;
    for (int i = 0; i < 100; i++)
        ck_assert_uint_eq(identity_rng_next(&a), identity_rng_next(&b));
    uint64_t s = 1;
    for (int i = 0; i < 10000; i++) {
        double u = identity_rng_unit(&s);
        ck_assert(u >= 0.0 && u < 1.0);
    }
}
END_TEST

START_TEST(test_meta_mix)
{
    struct identity_os_mix mix = identity_default_os_mix();
    const uint32_t n = 20000;
    uint32_t count[IDENTITY_OS_COUNT] = {0};
    for (uint32_t i = 1; i <= n; i++) {
        struct identity_agent_meta m, again;
        identity_agent_meta(7, i, &mix, &m);
        identity_agent_meta(7, i, &mix, &again);
        ck_assert_int_eq(m.os_kind, again.os_kind);
        ck_assert_str_eq(m.architecture, again.architecture);
        ck_assert_str_eq(m.os, identity_os_name(m.os_kind));
        if (m.os_kind == IDENTITY_OS_DARWIN)
            ck_assert_str_eq(m.architecture, "arm64");
        if (m.os_kind == IDENTITY_OS_WINDOWS)
            ck_assert_str_eq(m.architecture, "amd64");
        count[m.os_kind]++;
    }
    ck_assert(abs((int)(count[0] * 100 / n) - 80) <= 2);
    ck_assert(abs((int)(count[1] * 100 / n) - 10) <= 2);
    ck_assert(abs((int)(count[2] * 100 / n) - 10) <= 2);

    struct identity_os_mix all_windows = {{0, 100, 0}};
    for (uint32_t i = 1; i <= 100; i++) {
        struct identity_agent_meta m;
        identity_agent_meta(7, i, &all_windows, &m);
        ck_assert_str_eq(m.os, "windows");
    }
}
END_TEST

int main(void)
{
    Suite *s = suite_create("identity");
    TCase *tc = testenv_tcase(s, "core", 0);
    tcase_add_test(tc, test_formats);
    tcase_add_test(tc, test_too_small_buffer);
    tcase_add_test(tc, test_prefix_check);
    tcase_add_test(tc, test_parse_index);
    tcase_add_test(tc, test_cert_agent);
    tcase_add_test(tc, test_target_host_config);
    tcase_add_test(tc, test_rng_deterministic);
    tcase_add_test(tc, test_meta_mix);
    return testenv_run(s);
}

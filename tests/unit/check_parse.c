/* tests/unit/check_parse.c - unit tests of engine/parse: every parser with good values, bad
 * values and edge cases (overflow, zero, negative, missing and unknown units), and the exact
 * reasons and error lines users see. */
#include <arpa/inet.h>
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/parse.h"
#include "tests/lib/testenv.h"

#define MS 1000000ULL
#define SEC 1000000000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static char err[512];

/* ---- durations ---- */

START_TEST(duration_good)
{
    static const struct {
        const char *s;
        uint64_t ns;
    } cases[] = {
        {"250ms", 250 * MS},
        {"30s", 30 * SEC},
        {"5m", 5 * MIN},
        {"8h", 8 * HOUR},
        {"2d", 2 * DAY},
        {"1h30m", HOUR + 30 * MIN},
        {"1m30s", 90 * SEC},
        {"1s500ms", 1500 * MS},
        {"1d2h3m4s5ms", DAY + 2 * HOUR + 3 * MIN + 4 * SEC + 5 * MS},
        {"1.5s", 1500 * MS},
        {"0.25h", 15 * MIN},
        {"0.001ms", 1000},
        {"0s", 0},
        {"0", 0},
        {"0ms", 0},
        {"365d", 365 * DAY},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 12345;
        ck_assert_msg(
            parse_duration_ns(cases[i].s, 0, PARSE_DURATION_MAX_NS, &v, err, sizeof(err)) == 0,
            "%s: %s", cases[i].s, err);
        ck_assert_msg(v == cases[i].ns, "%s: got %llu", cases[i].s, (unsigned long long)v);
    }
}
END_TEST

START_TEST(duration_bad)
{
    static const struct {
        const char *s;
        int rc;
        const char *reason_prefix;
    } cases[] = {
        {"", -EINVAL, "is empty ("},
        {"30", -EINVAL, "has no unit ("},
        {"1h30", -EINVAL, "has no unit ("},
        {"5x", -EINVAL, "has an unknown unit \"x\""},
        {"5sec", -EINVAL, "has an unknown unit \"sec\""},
        {"5us", -EINVAL, "has an unknown unit \"us\""},
        {"-5s", -ERANGE, "is negative ("},
        {"s", -EINVAL, "is not a duration ("},
        {"abc", -EINVAL, "is not a duration ("},
        {"30m1h", -EINVAL, "has its units out of order ("},
        {"1s1s", -EINVAL, "has its units out of order ("},
        {" 5s", -EINVAL, "is not a duration ("},
        {"5s ", -EINVAL, "is not a duration ("},
        {"5 s", -EINVAL, "is not a duration ("},
        {"1.s", -EINVAL, "is not a duration ("},
        {"99999999999999999999s", -ERANGE, "is too large ("},
        {"18446744073709551615d", -ERANGE, "is too large ("},
        {"366d", -ERANGE, "is too long ("},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        uint64_t v = 777;
        err[0] = '\0';
        int rc = parse_duration_ns(cases[i].s, 0, PARSE_DURATION_MAX_NS, &v, err, sizeof(err));
        ck_assert_msg(rc == cases[i].rc, "\"%s\": rc %d", cases[i].s, rc);
        ck_assert_msg(v == 777, "\"%s\": output touched on failure", cases[i].s);
        ck_assert_msg(strncmp(err, cases[i].reason_prefix, strlen(cases[i].reason_prefix)) == 0,
                      "\"%s\": reason \"%s\"", cases[i].s, err);
    }
}
END_TEST

START_TEST(duration_range_and_zero)
{
    uint64_t v = 0;
    /* zero refused when the caller's minimum is above zero, with or without a unit */
    ck_assert_int_eq(parse_duration_ns("0", SEC, HOUR, &v, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err,
                     "is zero (expected a duration from 1s to 1h, e.g. 250ms, 30s, 5m or 1h30m)");
    ck_assert_int_eq(parse_duration_ns("0s", SEC, HOUR, &v, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_duration_ns("999ms", SEC, HOUR, &v, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(
        err, "is too short (expected a duration from 1s to 1h, e.g. 250ms, 30s, 5m or 1h30m)");
    ck_assert_int_eq(parse_duration_ns("1h1ms", SEC, HOUR, &v, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_duration_ns("1h", SEC, HOUR, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, HOUR);
    ck_assert_int_eq(parse_duration_ns("1s", SEC, HOUR, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, SEC);
    /* NULL and a zero-size err buffer are tolerated */
    ck_assert_int_eq(parse_duration_ns(NULL, 0, HOUR, &v, NULL, 0), -EINVAL);
}
END_TEST

START_TEST(duration_format_roundtrip)
{
    static const struct {
        uint64_t ns;
        const char *s;
    } cases[] = {
        {0, "0"},
        {250 * MS, "250ms"},
        {30 * SEC, "30s"},
        {HOUR + 30 * MIN, "1h30m"},
        {DAY + 5 * MS, "1d5ms"},
        {1500 * 1000, "1.5ms"},
        {1, "0.000001ms"},
        {365 * DAY, "365d"},
    };
    char buf[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ck_assert_int_eq(parse_format_duration(buf, sizeof(buf), cases[i].ns),
                         (int)strlen(cases[i].s));
        ck_assert_str_eq(buf, cases[i].s);
        uint64_t back = 1;
        ck_assert_int_eq(parse_duration_ns(buf, 0, PARSE_DURATION_MAX_NS, &back, err, sizeof(err)),
                         0);
        ck_assert_uint_eq(back, cases[i].ns);
    }
    ck_assert_int_eq(parse_format_duration(buf, 3, HOUR + 30 * MIN), -ENOSPC);
    ck_assert_str_eq(buf, "");
}
END_TEST

/* ---- counts ---- */

START_TEST(count_good_and_bad)
{
    uint64_t v = 0;
    ck_assert_int_eq(parse_count_u64("18446744073709551615", 0, UINT64_MAX, &v, err, sizeof(err)),
                     0);
    ck_assert(v == UINT64_MAX);
    ck_assert_int_eq(parse_count_u64("18446744073709551616", 0, UINT64_MAX, &v, err, sizeof(err)),
                     -ERANGE);
    ck_assert_str_eq(err, "is too large (expected an integer from 0 to 18446744073709551615)");
    ck_assert_int_eq(parse_count_u64("0", 0, 10, &v, err, sizeof(err)), 0);
    ck_assert_uint_eq(v, 0);

    uint32_t u = 99;
    ck_assert_int_eq(parse_count_u32("5000", 1, 1000000, &u, err, sizeof(err)), 0);
    ck_assert_uint_eq(u, 5000);
    ck_assert_int_eq(parse_count_u32("abc", 1, 1000000, &u, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "is not a number (expected an integer from 1 to 1000000)");
    ck_assert_int_eq(parse_count_u32("0", 1, 1000000, &u, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "is zero (expected an integer from 1 to 1000000)");
    ck_assert_int_eq(parse_count_u32("-3", 1, 10, &u, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "is negative (expected an integer from 1 to 10)");
    ck_assert_int_eq(parse_count_u32("1000001", 1, 1000000, &u, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "is too large (expected an integer from 1 to 1000000)");
    ck_assert_int_eq(parse_count_u32("4", 5, 10, &u, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "is too small (expected an integer from 5 to 10)");
    ck_assert_int_eq(parse_count_u32("99999999999999999999999", 1, 10, &u, err, sizeof(err)),
                     -ERANGE);
    ck_assert_str_eq(err, "is too large (expected an integer from 1 to 10)");
    static const char *const not_numbers[] = {"",   "+5",  " 5",  "5 ",  "0x10",
                                              "5k", "1e3", "5.0", "--5", "5-"};
    for (size_t i = 0; i < sizeof(not_numbers) / sizeof(not_numbers[0]); i++)
        ck_assert_msg(parse_count_u32(not_numbers[i], 0, 100, &u, err, sizeof(err)) == -EINVAL,
                      "\"%s\" accepted", not_numbers[i]);
    ck_assert_uint_eq(u, 5000); /* untouched by the failures */
}
END_TEST

/* ---- rates and percentages ---- */

START_TEST(rate_good_and_bad)
{
    double r = 0;
    ck_assert_int_eq(parse_rate_per_s("5/s", 0, 1e6, &r, err, sizeof(err)), 0);
    ck_assert_double_eq(r, 5.0);
    ck_assert_int_eq(parse_rate_per_s("300/m", 0, 1e6, &r, err, sizeof(err)), 0);
    ck_assert_double_eq(r, 5.0);
    ck_assert_int_eq(parse_rate_per_s("3600/h", 0, 1e6, &r, err, sizeof(err)), 0);
    ck_assert_double_eq(r, 1.0);
    ck_assert_int_eq(parse_rate_per_s("0.5/s", 0, 1e6, &r, err, sizeof(err)), 0);
    ck_assert_double_eq(r, 0.5);
    ck_assert_int_eq(parse_rate_per_s("5", 0, 1e6, &r, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "has no unit (expected a rate from 0/s to 1e+06/s written N/s, N/m or "
                          "N/h, e.g. 5/s or 300/m)");
    ck_assert_int_eq(parse_rate_per_s("5/d", 0, 1e6, &r, err, sizeof(err)), -EINVAL);
    ck_assert(strncmp(err, "has an unknown unit (", 21) == 0);
    ck_assert_int_eq(parse_rate_per_s("-5/s", 0, 1e6, &r, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_rate_per_s("5/s", 10, 100, &r, err, sizeof(err)), -ERANGE);
    ck_assert(strncmp(err, "is too low (", 12) == 0);
    ck_assert_int_eq(parse_rate_per_s("6001/m", 0, 100, &r, err, sizeof(err)), -ERANGE);
    ck_assert(strncmp(err, "is too high (", 13) == 0);
    ck_assert_int_eq(parse_rate_per_s("x/s", 0, 100, &r, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_rate_per_s("", 0, 100, &r, err, sizeof(err)), -EINVAL);
    ck_assert_double_eq(r, 0.5);
}
END_TEST

START_TEST(percent_good_and_bad)
{
    double p = -1;
    ck_assert_int_eq(parse_percent("10%", 0, 100, &p, err, sizeof(err)), 0);
    ck_assert_double_eq(p, 10.0);
    ck_assert_int_eq(parse_percent("2.5%", 0, 100, &p, err, sizeof(err)), 0);
    ck_assert_double_eq(p, 2.5);
    ck_assert_int_eq(parse_percent("0%", 0, 100, &p, err, sizeof(err)), 0);
    ck_assert_double_eq(p, 0.0);
    ck_assert_int_eq(parse_percent("10", 0, 100, &p, err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "has no % sign (expected a percentage from 0% to 100%, e.g. 10%)");
    ck_assert_int_eq(parse_percent("51%", 0, 50, &p, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "is too large (expected a percentage from 0% to 50%, e.g. 10%)");
    ck_assert_int_eq(parse_percent("-1%", 0, 50, &p, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_percent("10%%", 0, 50, &p, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_percent("ten%", 0, 50, &p, err, sizeof(err)), -EINVAL);
    ck_assert_double_eq(p, 0.0);
}
END_TEST

/* ---- shard and OS mix ---- */

START_TEST(shard_good_and_bad)
{
    uint32_t k = 9, n = 9;
    ck_assert_int_eq(parse_shard("0/1", &k, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(k, 0);
    ck_assert_uint_eq(n, 1);
    ck_assert_int_eq(parse_shard("3/4", &k, &n, err, sizeof(err)), 0);
    ck_assert_uint_eq(k, 3);
    ck_assert_uint_eq(n, 4);
    ck_assert_int_eq(parse_shard("4/4", &k, &n, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "has K >= N (expected K/N with 0 <= K < N <= 100000, e.g. 0/4)");
    ck_assert_int_eq(parse_shard("0/0", &k, &n, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_shard("0/100001", &k, &n, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_shard("-1/4", &k, &n, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_shard("1", &k, &n, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_shard("1/", &k, &n, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_shard("1/4x", &k, &n, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_shard("99999999999999999999/4", &k, &n, err, sizeof(err)), -ERANGE);
    ck_assert_uint_eq(k, 3);
}
END_TEST

START_TEST(os_mix_good_and_bad)
{
    uint32_t pct[3] = {1, 1, 1};
    ck_assert_int_eq(parse_os_mix("80/10/10", pct, err, sizeof(err)), 0);
    ck_assert_uint_eq(pct[0], 80);
    ck_assert_uint_eq(pct[1], 10);
    ck_assert_uint_eq(pct[2], 10);
    ck_assert_int_eq(parse_os_mix("100/0/0", pct, err, sizeof(err)), 0);
    ck_assert_uint_eq(pct[0], 100);
    ck_assert_int_eq(parse_os_mix("80/10/5", pct, err, sizeof(err)), -ERANGE);
    ck_assert_str_eq(err, "adds up to 95 (expected three percentages linux/windows/darwin adding "
                          "up to 100, e.g. 80/10/10)");
    ck_assert_int_eq(parse_os_mix("80/20", pct, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_os_mix("80/10/10/0", pct, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_os_mix("200/0/0", pct, err, sizeof(err)), -ERANGE);
    ck_assert_int_eq(parse_os_mix("-80/90/90", pct, err, sizeof(err)), -EINVAL);
    ck_assert_int_eq(parse_os_mix("a/b/c", pct, err, sizeof(err)), -EINVAL);
    ck_assert_uint_eq(pct[0], 100);
}
END_TEST

/* ---- URLs ---- */

START_TEST(url_good)
{
    struct parsed_url u;
    ck_assert_int_eq(parse_url("https://certctl.example.test:8443", &u, err, sizeof(err)), 0);
    ck_assert(u.tls);
    ck_assert_str_eq(u.host, "certctl.example.test");
    ck_assert_uint_eq(u.port, 8443);
    ck_assert(u.port_explicit);
    ck_assert_str_eq(u.base_path, "");
    ck_assert_str_eq(u.authority, "certctl.example.test:8443");

    ck_assert_int_eq(parse_url("HTTP://127.0.0.1/base/path/", &u, err, sizeof(err)), 0);
    ck_assert(!u.tls);
    ck_assert_uint_eq(u.port, 80);
    ck_assert(!u.port_explicit);
    ck_assert_str_eq(u.base_path, "/base/path");
    ck_assert_str_eq(u.authority, "127.0.0.1");

    ck_assert_int_eq(parse_url("https://[::1]:9443/", &u, err, sizeof(err)), 0);
    ck_assert(u.host_is_ipv6);
    ck_assert_str_eq(u.host, "::1");
    ck_assert_uint_eq(u.port, 9443);
    ck_assert_str_eq(u.authority, "[::1]:9443");

    ck_assert_int_eq(parse_url("https://[::1]", &u, err, sizeof(err)), 0);
    ck_assert_uint_eq(u.port, 443);
    ck_assert_str_eq(u.authority, "[::1]");

    ck_assert_int_eq(parse_url("https://h:443", &u, err, sizeof(err)), 0);
    ck_assert_str_eq(u.authority, "h"); /* the default port is not repeated in Host */

    char buf[128];
    ck_assert_int_eq(parse_url("https://certctl.example.test:8443/x/", &u, err, sizeof(err)), 0);
    ck_assert_int_gt(parse_url_format(&u, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "https://certctl.example.test:8443/x");
}
END_TEST

START_TEST(url_bad)
{
    static const struct {
        const char *s;
        const char *reason_prefix;
    } cases[] = {
        {"", "is empty ("},
        {"ftp://host/", "has an unsupported scheme \"ftp\" (expected http:// or https://)"},
        {"certctl.example.test:8443", "is not a URL ("},
        {"https://", "has no host ("},
        {"https://:8443", "has no host ("},
        {"https://host:0", "has a port out of range 1-65535 ("},
        {"https://host:65536", "has a port out of range 1-65535 ("},
        {"https://host:", "has a bad port ("},
        {"https://host:84x3", "has a bad port ("},
        {"https://ho st/", "has a bad host name ("},
        {"https://999.1.1.1/", "has a bad IPv4 address ("},
        {"https://[::1/", "has a bad IPv6 address ("},
        {"https://[zz::1]/", "has a bad IPv6 address ("},
        {"https://[::1]x/", "has a bad IPv6 address ("},
        {"https://user:secret@host/", "contains user:password@ ("},
        {"https://host/?q=1", "has a query or fragment ("},
        {"https://host/#frag", "has a query or fragment ("},
        {"https://host/a b", "has a space or control character in its path ("},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct parsed_url u;
        err[0] = '\0';
        ck_assert_msg(parse_url(cases[i].s, &u, err, sizeof(err)) < 0, "\"%s\" accepted",
                      cases[i].s);
        ck_assert_msg(strncmp(err, cases[i].reason_prefix, strlen(cases[i].reason_prefix)) == 0,
                      "\"%s\": reason \"%s\"", cases[i].s, err);
        ck_assert_msg(strstr(err, "secret") == NULL, "reason leaks the password: %s", err);
    }
}
END_TEST

START_TEST(url_redact)
{
    char buf[128];
    parse_url_redact("https://user:secret@host:8443/x", buf, sizeof(buf));
    ck_assert_str_eq(buf, "https://***@host:8443/x");
    parse_url_redact("https://a@b@host/", buf, sizeof(buf));
    ck_assert_str_eq(buf, "https://***@host/");
    parse_url_redact("https://host/p@th", buf, sizeof(buf));
    ck_assert_str_eq(buf, "https://host/p@th");
}
END_TEST

/* ---- IPv4 ranges and listen addresses ---- */

START_TEST(ipv4_range_good_and_bad)
{
    struct ipv4_range r;
    char buf[40];
    ck_assert_int_eq(parse_ipv4_range("127.0.0.2-127.0.0.254", &r, err, sizeof(err)), 0);
    ck_assert_uint_eq(r.first, 0x7f000002u);
    ck_assert_uint_eq(r.last, 0x7f0000feu);
    ck_assert_uint_eq(parse_ipv4_range_count(&r), 253);
    ck_assert_int_gt(parse_ipv4_range_format(&r, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "127.0.0.2-127.0.0.254");
    ck_assert_int_eq(parse_ipv4_range("192.0.0.0-192.0.255.255", &r, err, sizeof(err)), 0);
    ck_assert_uint_eq(parse_ipv4_range_count(&r), 65536);
    ck_assert_int_eq(parse_ipv4_range("127.0.0.9", &r, err, sizeof(err)), 0);
    ck_assert_uint_eq(parse_ipv4_range_count(&r), 1);
    ck_assert_int_gt(parse_ipv4_range_format(&r, buf, sizeof(buf)), 0);
    ck_assert_str_eq(buf, "127.0.0.9");

    ck_assert_int_eq(parse_ipv4_range("192.0.0.0-192.1.0.0", &r, err, sizeof(err)), -ERANGE);
    ck_assert(strncmp(err, "holds too many addresses (", 26) == 0);
    ck_assert_int_eq(parse_ipv4_range("127.0.0.9-127.0.0.2", &r, err, sizeof(err)), -ERANGE);
    ck_assert(strncmp(err, "is descending (", 15) == 0);
    static const char *const bad[] = {"",
                                      "127.0.0",
                                      "127.0.0.256",
                                      "127.0.0.01",
                                      "127.0.0.1-",
                                      "-127.0.0.1",
                                      "127.0.0.1 - 127.0.0.2",
                                      "a.b.c.d",
                                      "127.0.0.1.5",
                                      "::1",
                                      "127.0.0.1-127.0.0.2-127.0.0.3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_ipv4_range(bad[i], &r, err, sizeof(err)) == -EINVAL, "\"%s\" accepted",
                      bad[i]);
        ck_assert(strncmp(err, "is not an IPv4 range (", 22) == 0);
    }
    ck_assert_uint_eq(r.first, 0x7f000009u);
}
END_TEST

START_TEST(listen_good_and_bad)
{
    struct parsed_listen l;
    ck_assert_int_eq(parse_listen_addr("127.0.0.1:9090", &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.addr.ss_family, AF_INET);
    ck_assert_uint_eq(l.port, 9090);
    ck_assert_str_eq(l.host, "127.0.0.1");
    ck_assert_uint_eq(l.addr_len, sizeof(struct sockaddr_in));
    const struct sockaddr_in *sin = (const struct sockaddr_in *)&l.addr;
    ck_assert_uint_eq(ntohs(sin->sin_port), 9090);
    ck_assert_uint_eq(ntohl(sin->sin_addr.s_addr), 0x7f000001u);

    ck_assert_int_eq(parse_listen_addr("[::1]:0", &l, err, sizeof(err)), 0);
    ck_assert_int_eq(l.addr.ss_family, AF_INET6);
    ck_assert_uint_eq(l.port, 0);
    ck_assert_str_eq(l.host, "::1");

    ck_assert_int_eq(parse_listen_addr("127.0.0.1:65536", &l, err, sizeof(err)), -ERANGE);
    ck_assert(strncmp(err, "has a port out of range (", 25) == 0);
    static const char *const bad[] = {"",           "127.0.0.1",   ":9090",    "localhost:9090",
                                      "127.0.0.1:", "127.0.0.1:x", "::1:9090", "[::1]9090",
                                      "[::1]:",     "1.2.3:4"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ck_assert_msg(parse_listen_addr(bad[i], &l, err, sizeof(err)) < 0, "\"%s\" accepted",
                      bad[i]);
        ck_assert_msg(strstr(err, "(expected ADDR:PORT") != NULL, "%s", err);
    }
    ck_assert_int_eq(l.addr.ss_family, AF_INET6);
}
END_TEST

/* ---- files ---- */

static char tmpdir[64];

static void make_tmpdir(void)
{
    testenv_mkdtemp(tmpdir, sizeof tmpdir, "check_parse");
}

static void write_file(const char *path, const char *content, mode_t mode)
{
    ck_assert_int_eq(testenv_write_file(path, content, strlen(content), mode), 0);
}

START_TEST(files)
{
    make_tmpdir();
    char path[128], sub[128];
    snprintf(path, sizeof(path), "%s/ca.pem", tmpdir);
    write_file(path, "x\n", 0600);
    ck_assert_int_eq(parse_readable_file(path, err, sizeof(err)), 0);
    ck_assert_int_eq(parse_readable_file("/nonexistent/ca.pem", err, sizeof(err)), -ENOENT);
    ck_assert_str_eq(err, "cannot be read: No such file or directory (expected a readable file)");
    ck_assert_int_eq(parse_readable_file(tmpdir, err, sizeof(err)), -EISDIR);
    ck_assert_str_eq(err, "is a directory (expected a readable file)");
    ck_assert_int_eq(parse_readable_file("", err, sizeof(err)), -EINVAL);

    ck_assert_int_eq(parse_writable_path(path, err, sizeof(err)), 0);
    snprintf(sub, sizeof(sub), "%s/new.json", tmpdir);
    ck_assert_int_eq(parse_writable_path(sub, err, sizeof(err)), 0);
    ck_assert_int_eq(access(sub, F_OK), -1); /* nothing created */
    ck_assert_int_eq(parse_writable_path("/nonexistent/dir/out.json", err, sizeof(err)), -ENOENT);
    ck_assert(strncmp(err, "cannot be written: its directory does not exist (", 49) == 0);
    ck_assert_int_eq(parse_writable_path(tmpdir, err, sizeof(err)), -EISDIR);
    ck_assert_int_eq(testenv_rmtree(tmpdir), 0);
}
END_TEST

START_TEST(first_line)
{
    make_tmpdir();
    char path[128], key[32];
    snprintf(path, sizeof(path), "%s/key", tmpdir);

    write_file(path, "  s3cret-key \t\r\nsecond line\n", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), 0);
    ck_assert_str_eq(key, "s3cret-key");

    write_file(path, "no-newline", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), 0);
    ck_assert_str_eq(key, "no-newline");

    write_file(path, "\nkey-on-second-line\n", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), -EINVAL);
    ck_assert_str_eq(err, "has an empty first line (expected the secret on the first line)");
    ck_assert_str_eq(key, "");

    write_file(path, "", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), -EINVAL);

    write_file(path, "abc\001def\n", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), -EINVAL);
    ck_assert(strstr(err, "abc") == NULL); /* the content never appears in the reason */

    write_file(path, "0123456789012345678901234567890123456789\n", 0600);
    ck_assert_int_eq(parse_read_first_line(path, key, sizeof(key), err, sizeof(err)), -ENOSPC);
    ck_assert(strstr(err, "0123") == NULL);
    for (size_t i = 0; i < sizeof(key); i++)
        ck_assert_int_eq(key[i], 0);

    ck_assert_int_eq(parse_read_first_line("/nonexistent/key", key, sizeof(key), err, sizeof(err)),
                     -ENOENT);
    ck_assert_int_eq(testenv_rmtree(tmpdir), 0);
}
END_TEST

/* ---- error lines ---- */

START_TEST(error_line)
{
    char line[256];
    parse_error_line(line, sizeof(line), "fleetsim", "--agents", "abc",
                     "is not a number (expected an integer from 1 to 1000000)");
    ck_assert_str_eq(
        line,
        "fleetsim: --agents: \"abc\" is not a number (expected an integer from 1 to 1000000)");
    parse_error_line(line, sizeof(line), "fleetsim", "--api-key", NULL, "the key is empty");
    ck_assert_str_eq(line, "fleetsim: --api-key: the key is empty");
    parse_error_line(line, sizeof(line), "p", "--x", "a\nb\"c", "bad");
    ck_assert_str_eq(line, "p: --x: \"a\\x0ab\\x22c\" bad");
    char long_value[200];
    memset(long_value, 'z', sizeof(long_value) - 1);
    long_value[sizeof(long_value) - 1] = '\0';
    parse_error_line(line, sizeof(line), "p", "--x", long_value, "bad");
    ck_assert_int_eq((int)strlen(line), (int)strlen("p: --x: \"") + 64 + 3 + (int)strlen("\" bad"));
    ck_assert(strstr(line, "...\" bad") != NULL);
    parse_error_line(line, 10, "fleetsim", "--agents", "abc", "is not a number");
    ck_assert_int_eq((int)strlen(line), 9);
}
END_TEST

START_TEST(hex_digits_and_unreserved_ids)
{
    ck_assert_int_eq(parse_hex_digit('0'), 0);
    ck_assert_int_eq(parse_hex_digit('9'), 9);
    ck_assert_int_eq(parse_hex_digit('a'), 10);
    ck_assert_int_eq(parse_hex_digit('F'), 15);
    ck_assert_int_eq(parse_hex_digit('g'), -1);
    ck_assert_int_eq(parse_hex_digit('\0'), -1);
    ck_assert_int_eq(parse_hex_digit((char)0xc3), -1);
    ck_assert(parse_unreserved("ag-loadtest-00001", 17));
    ck_assert(parse_unreserved("A.z_0~-", 7));
    ck_assert(!parse_unreserved("ag-loadtest-00001", 16)); /* longer than max_len */
    ck_assert(!parse_unreserved("", 8));
    ck_assert(!parse_unreserved(NULL, 8));
    ck_assert(!parse_unreserved("a/b", 8));
    ck_assert(!parse_unreserved("a b", 8));
    ck_assert(!parse_unreserved("a%20", 8));
}
END_TEST

static Suite *parse_suite(void)
{
    Suite *s = suite_create("parse");
    TCase *tc = testenv_tcase(s, "values", 0);
    tcase_add_test(tc, duration_good);
    tcase_add_test(tc, duration_bad);
    tcase_add_test(tc, duration_range_and_zero);
    tcase_add_test(tc, duration_format_roundtrip);
    tcase_add_test(tc, count_good_and_bad);
    tcase_add_test(tc, rate_good_and_bad);
    tcase_add_test(tc, percent_good_and_bad);
    tcase_add_test(tc, shard_good_and_bad);
    tcase_add_test(tc, os_mix_good_and_bad);
    tcase_add_test(tc, hex_digits_and_unreserved_ids);
    TCase *net = testenv_tcase(s, "net", 0);
    tcase_add_test(net, url_good);
    tcase_add_test(net, url_bad);
    tcase_add_test(net, url_redact);
    tcase_add_test(net, ipv4_range_good_and_bad);
    tcase_add_test(net, listen_good_and_bad);
    TCase *fs = testenv_tcase(s, "files", 0);
    tcase_add_test(fs, files);
    tcase_add_test(fs, first_line);
    tcase_add_test(fs, error_line);
    return s;
}

int main(void)
{
    return testenv_run(parse_suite());
}

/* tests/unit/check_text_out.c - engine/text_out.h: numbers as printf writes them (also
 * zero-padded), the length counted past the capacity, and the checked end (-ENOSPC, ""). */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "engine/text_out.h"
#include "tests/lib/testenv.h"

/* text_out_uint(v, min) as a string */
static const char *uint_text(unsigned long long v, unsigned min, char *buf, size_t n)
{
    struct text_out o = text_out_start(buf, n);
    text_out_uint(&o, v, min);
    ck_assert_int_ge(text_out_end(&o), 0);
    return buf;
}

START_TEST(t_uint_matches_printf)
{
    char got[32], want[32];
    ck_assert_str_eq(uint_text(0, 1, got, sizeof got), "0");
    ck_assert_str_eq(uint_text(0, 0, got, sizeof got), "0");
    ck_assert_str_eq(uint_text(7, 5, got, sizeof got), "00007");
    ck_assert_str_eq(uint_text(123456, 5, got, sizeof got), "123456");
    ck_assert_str_eq(uint_text(ULLONG_MAX, 1, got, sizeof got), "18446744073709551615");
    ck_assert_str_eq(uint_text(42, 20, got, sizeof got), "00000000000000000042");
    /* a fixed pseudo-random sweep against snprintf's "%0*llu" */
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    for (int i = 0; i < 20000; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        unsigned long long v = x >> (x % 64);
        unsigned min = (unsigned)(x % 21);
        snprintf(want, sizeof want, "%0*llu", (int)min, v);
        ck_assert_str_eq(uint_text(v, min, got, sizeof got), want);
    }
}
END_TEST

START_TEST(t_length_counts_past_capacity)
{
    char buf[8];
    memset(buf, 'x', sizeof buf);
    struct text_out o = text_out_start(buf, 5);
    text_out_str(&o, "abc");
    text_out_str(&o, "defg");
    text_out_uint(&o, 12345, 1);
    ck_assert_uint_eq(o.len, 12);
    ck_assert_int_eq(memcmp(buf, "abcdexxx", 8), 0); /* nothing written past cap */
    ck_assert_int_eq(text_out_end(&o), -ENOSPC);
    ck_assert_str_eq(buf, "");
}
END_TEST

START_TEST(t_end_fits_with_its_nul)
{
    char buf[4];
    struct text_out o = text_out_start(buf, sizeof buf);
    text_out_str(&o, "abc");
    ck_assert_int_eq(text_out_end(&o), 3);
    ck_assert_str_eq(buf, "abc");
    o = text_out_start(buf, sizeof buf);
    text_out_add(&o, "abcd", 4); /* no room for the NUL */
    ck_assert_int_eq(text_out_end(&o), -ENOSPC);
    ck_assert_str_eq(buf, "");
    o = text_out_start(NULL, 0); /* a zero capacity writes nothing */
    text_out_str(&o, "a");
    ck_assert_int_eq(text_out_end(&o), -ENOSPC);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("text_out");
    TCase *tc = tcase_create("text_out");
    tcase_add_test(tc, t_uint_matches_printf);
    tcase_add_test(tc, t_length_counts_past_capacity);
    tcase_add_test(tc, t_end_fits_with_its_nul);
    suite_add_tcase(s, tc);
    return testenv_run(s);
}

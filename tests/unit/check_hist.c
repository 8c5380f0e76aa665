/* tests/unit/check_hist.c - histogram: percentiles against sorted data (uniform, log-normal,
 * bimodal, constant) within 0.1 %, exact add, exact JSON round trip, clamping, refusing a
 * merge across configurations, bucket iteration and bad input. */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine/hist.h"
#include "tests/lib/testenv.h"

#define N_VALUES 200000
#define MAX_REL_ERROR 0.001

/* splitmix64: deterministic pseudo-random numbers for the test data. */
static uint64_t rng_next(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double rng_unit(uint64_t *state)
{
    return (double)(rng_next(state) >> 11) / 9007199254740992.0;
}

static double rng_normal(uint64_t *state)
{
    double u1 = rng_unit(state), u2 = rng_unit(state);
    if (u1 < 1e-300)
        u1 = 1e-300;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

enum dist { UNIFORM, LOGNORMAL, BIMODAL, CONSTANT };

static uint64_t draw(enum dist d, uint64_t *state)
{
    switch (d) {
    case UNIFORM:
        return rng_next(state) % 5000000; /* 0 .. 5 s */
    case LOGNORMAL:
        return (uint64_t)exp(log(10000.0) + 1.2 * rng_normal(state));
    case BIMODAL: {
        double center = rng_unit(state) < 0.7 ? 2000.0 : 500000.0;
        double v = center * (1 + 0.1 * rng_normal(state));
        return v < 0 ? 0 : (uint64_t)v;
    }
    case CONSTANT:
        break;
    }
    return 12345;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted values. */
static uint64_t sorted_percentile(const uint64_t *v, size_t n, double pct)
{
    double exact = pct / 100.0 * (double)n;
    size_t rank = (size_t)exact;
    if (exact - (double)rank > 1e-9)
        rank++;
    if (rank < 1)
        rank = 1;
    return v[rank - 1];
}

static void check_close(uint64_t expected, uint64_t got, const char *what, double pct)
{
    ck_assert_msg(got >= expected, "%s p%.2f: got %lu below true %lu", what, pct,
                  (unsigned long)got, (unsigned long)expected);
    ck_assert_msg((double)(got - expected) <= MAX_REL_ERROR * (double)expected,
                  "%s p%.2f: got %lu, true %lu (error above 0.1 %%)", what, pct, (unsigned long)got,
                  (unsigned long)expected);
}

static void check_distribution(enum dist d, const char *what)
{
    static const double pcts[] = {0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100};
    uint64_t *values = malloc(N_VALUES * sizeof *values), state = 42 + (uint64_t)d;
    struct hist *h = hist_new_default();
    double sum = 0;
    ck_assert_ptr_nonnull(values);
    ck_assert_ptr_nonnull(h);
    for (size_t i = 0; i < N_VALUES; i++) {
        values[i] = draw(d, &state);
        sum += (double)values[i];
        hist_record(h, values[i]);
    }
    qsort(values, N_VALUES, sizeof *values, cmp_u64);
    ck_assert_uint_eq(hist_count(h), N_VALUES);
    for (size_t i = 0; i < sizeof pcts / sizeof pcts[0]; i++)
        check_close(sorted_percentile(values, N_VALUES, pcts[i]),
                    hist_value_at_percentile(h, pcts[i]), what, pcts[i]);
    check_close(values[N_VALUES - 1], hist_max(h), what, 100);
    ck_assert_uint_le(hist_min(h), values[0]);
    ck_assert((double)(values[0] - hist_min(h)) <= MAX_REL_ERROR * (double)values[0]);
    double mean = sum / N_VALUES;
    ck_assert_msg(fabs(hist_mean(h) - mean) <= MAX_REL_ERROR * mean, "%s mean %f vs %f", what,
                  hist_mean(h), mean);
    hist_free(h);
    free(values);
}

START_TEST(test_percentiles_uniform)
{
    check_distribution(UNIFORM, "uniform");
}
END_TEST

START_TEST(test_percentiles_lognormal)
{
    check_distribution(LOGNORMAL, "log-normal");
}
END_TEST

START_TEST(test_percentiles_bimodal)
{
    check_distribution(BIMODAL, "bimodal");
}
END_TEST

START_TEST(test_percentiles_constant)
{
    struct hist *h = hist_new_default();
    for (int i = 0; i < 1000; i++)
        hist_record(h, 12345);
    uint64_t p1 = hist_value_at_percentile(h, 1), p100 = hist_value_at_percentile(h, 100);
    ck_assert_uint_eq(p1, p100);
    check_close(12345, p1, "constant", 50);
    ck_assert_uint_le(hist_min(h), 12345);
    ck_assert_uint_ge(hist_max(h), 12345);
    ck_assert_uint_eq(hist_count(h), 1000);
    hist_free(h);
}
END_TEST

START_TEST(test_small_values_exact)
{
    struct hist *h = hist_new_default();
    hist_record(h, 0);
    hist_record(h, 1);
    hist_record(h, 2047);
    ck_assert_uint_eq(hist_min(h), 0);
    ck_assert_uint_eq(hist_value_at_percentile(h, 33), 0);
    ck_assert_uint_eq(hist_value_at_percentile(h, 50), 1);
    ck_assert_uint_eq(hist_max(h), 2047);
    ck_assert(fabs(hist_mean(h) - 2048.0 / 3) < 1e-9);
    hist_free(h);
}
END_TEST

static void fill(struct hist *h, uint64_t seed, int n)
{
    for (int i = 0; i < n; i++)
        hist_record(h, draw(LOGNORMAL, &seed));
}

START_TEST(test_add_equals_recording_both)
{
    struct hist *a = hist_new_default(), *b = hist_new_default(), *both = hist_new_default();
    fill(a, 1, 50000);
    fill(b, 2, 30000);
    hist_record(b, 9000000000ULL); /* clamped */
    fill(both, 1, 50000);
    fill(both, 2, 30000);
    hist_record(both, 9000000000ULL);
    ck_assert_int_eq(hist_add(a, b), 0);
    ck_assert(hist_equal(a, both));
    ck_assert_uint_eq(hist_count(a), 80001);
    ck_assert_uint_eq(hist_clamped_count(a), 1);
    ck_assert_uint_eq(hist_value_at_percentile(a, 99), hist_value_at_percentile(both, 99));
    hist_record(both, 5);
    ck_assert(!hist_equal(a, both));
    hist_free(a);
    hist_free(b);
    hist_free(both);
}
END_TEST

START_TEST(test_add_refuses_other_config)
{
    struct hist *a = hist_new_default(), *b = hist_new(1, 60000000, 3),
                *c = hist_new(1, 3600000000ULL, 2);
    ck_assert_ptr_nonnull(b);
    ck_assert_ptr_nonnull(c);
    hist_record(a, 100);
    hist_record(b, 100);
    hist_record(c, 100);
    ck_assert_int_eq(hist_add(a, b), -EINVAL);
    ck_assert_int_eq(hist_add(a, c), -EINVAL);
    ck_assert_uint_eq(hist_count(a), 1);
    hist_free(a);
    hist_free(b);
    hist_free(c);
}
END_TEST

START_TEST(test_json_round_trip)
{
    struct hist *a = hist_new_default(), *b = hist_new_default();
    char err[256];
    fill(a, 7, 100000);
    hist_record(a, 0);
    hist_record(a, HIST_DEFAULT_HIGHEST_US);
    json_object *j = hist_to_json(a);
    ck_assert_ptr_nonnull(j);
    json_object *parsed = json_tokener_parse(json_object_to_json_string(j));
    ck_assert_ptr_nonnull(parsed);
    ck_assert_int_eq(hist_from_json(b, parsed, err, sizeof err), 0);
    ck_assert(hist_equal(a, b));
    ck_assert_uint_eq(hist_max(a), hist_max(b));
    ck_assert_uint_eq(hist_min(b), 0);
    json_object_put(j);
    json_object_put(parsed);
    hist_free(a);
    hist_free(b);
}
END_TEST

START_TEST(test_representatives_map_back)
{
    struct hist *a = hist_new_default(), *b = hist_new_default();
    struct hist_iter it = HIST_ITER_INIT;
    struct hist_bucket bk;
    size_t buckets = 0;
    for (double v = 0; v <= (double)HIST_DEFAULT_HIGHEST_US; v = v * 1.0002 + 1)
        hist_record(a, (uint64_t)v);
    while (hist_iter_next(a, &it, &bk)) {
        ck_assert_uint_le(bk.lowest_us, bk.value_us);
        ck_assert_uint_le(bk.value_us, bk.highest_us);
        hist_record_n(b, bk.value_us, bk.count);
        hist_record_n(b, bk.lowest_us, 0);
        buckets++;
    }
    ck_assert(hist_equal(a, b));
    ck_assert_uint_gt(buckets, 20000);
    hist_free(a);
    hist_free(b);
}
END_TEST

START_TEST(test_clamping)
{
    struct hist *h = hist_new_default();
    hist_record(h, HIST_DEFAULT_HIGHEST_US * 2);
    hist_record(h, UINT64_MAX);
    hist_record(h, 1000);
    ck_assert_uint_eq(hist_count(h), 3);
    ck_assert_uint_eq(hist_clamped_count(h), 2);
    ck_assert_uint_eq(hist_max(h), HIST_DEFAULT_HIGHEST_US);
    ck_assert_uint_eq(hist_value_at_percentile(h, 100), HIST_DEFAULT_HIGHEST_US);
    ck_assert_uint_eq(hist_value_at_percentile(h, 30), 1000);
    hist_reset(h);
    ck_assert_uint_eq(hist_count(h), 0);
    ck_assert_uint_eq(hist_clamped_count(h), 0);
    ck_assert_uint_eq(hist_max(h), 0);
    ck_assert_uint_eq(hist_value_at_percentile(h, 99), 0);
    hist_free(h);
}
END_TEST

START_TEST(test_note_clamped)
{
    struct hist *h = hist_new_default();
    hist_record(h, HIST_DEFAULT_HIGHEST_US);
    ck_assert_int_eq(hist_note_clamped(h, 1), 0);
    ck_assert_uint_eq(hist_clamped_count(h), 1);
    ck_assert_int_eq(hist_note_clamped(h, 1), -EINVAL);
    hist_free(h);
}
END_TEST

START_TEST(test_bad_config)
{
    struct hist h;
    ck_assert_int_eq(hist_init(&h, 0, 1000, 3), -EINVAL);
    ck_assert_int_eq(hist_init(&h, 10, 15, 3), -EINVAL);
    ck_assert_int_eq(hist_init(&h, 1, 1000, 0), -EINVAL);
    ck_assert_int_eq(hist_init(&h, 1, 1000, 6), -EINVAL);
    ck_assert_ptr_null(h.counts);
    ck_assert_int_eq(hist_init(&h, 1000, 60000000, 2), 0);
    hist_record(&h, 123456);
    uint64_t v = hist_value_at_percentile(&h, 50);
    ck_assert(v >= 123456 && (double)(v - 123456) <= 0.01 * 123456);
    hist_destroy(&h);
}
END_TEST

START_TEST(test_memory_fixed)
{
    struct hist *h = hist_new_default();
    size_t before = hist_memory_bytes(h);
    fill(h, 3, 10000);
    ck_assert_uint_eq(hist_memory_bytes(h), before);
    ck_assert_uint_lt(before, 200 * 1024);
    hist_free(h);
}
END_TEST

static int from_text(struct hist *h, const char *text, char *err, size_t n)
{
    json_object *j = json_tokener_parse(text);
    int rc = hist_from_json(h, j, err, n);
    json_object_put(j);
    return rc;
}

START_TEST(test_json_rejects_bad_input)
{
    struct hist *h = hist_new_default();
    char err[256];
    ck_assert_int_eq(from_text(h, "{\"a\":1}", err, sizeof err), -EINVAL);
    ck_assert_int_eq(from_text(h, "[[1,2,3]]", err, sizeof err), -EINVAL);
    ck_assert_int_eq(from_text(h, "[[1,\"2\"]]", err, sizeof err), -EINVAL);
    ck_assert_int_eq(from_text(h, "[[-1,2]]", err, sizeof err), -EINVAL);
    ck_assert_int_eq(from_text(h, "[[1.5,2]]", err, sizeof err), -EINVAL);
    ck_assert_int_eq(from_text(h, "[[10,2],[3600000001,1]]", err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "above"));
    ck_assert_uint_eq(hist_count(h), 0); /* nothing half-loaded */
    ck_assert_int_eq(from_text(h, "[[10,2],[2000000,1]]", err, sizeof err), -EINVAL);
    ck_assert_ptr_nonnull(strstr(err, "not on the histogram's grid"));
    ck_assert_int_eq(from_text(h, "[[10,2],[10,1]]", err, sizeof err), -EINVAL); /* twice */
    ck_assert_ptr_nonnull(strstr(err, "repeats"));
    ck_assert_int_eq(from_text(h, "[[20,2],[10,1]]", err, sizeof err), -EINVAL);
    ck_assert_uint_eq(hist_count(h), 0);
    ck_assert_int_eq(from_text(h, "[[10,2],[2000,1]]", err, sizeof err), 0);
    ck_assert_uint_eq(hist_count(h), 3);
    hist_free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("hist");
    TCase *tc = testenv_tcase(s, "core", 30);
    tcase_add_test(tc, test_percentiles_uniform);
    tcase_add_test(tc, test_percentiles_lognormal);
    tcase_add_test(tc, test_percentiles_bimodal);
    tcase_add_test(tc, test_percentiles_constant);
    tcase_add_test(tc, test_small_values_exact);
    tcase_add_test(tc, test_add_equals_recording_both);
    tcase_add_test(tc, test_add_refuses_other_config);
    tcase_add_test(tc, test_json_round_trip);
    tcase_add_test(tc, test_representatives_map_back);
    tcase_add_test(tc, test_clamping);
    tcase_add_test(tc, test_note_clamped);
    tcase_add_test(tc, test_bad_config);
    tcase_add_test(tc, test_memory_fixed);
    tcase_add_test(tc, test_json_rejects_bad_input);
    return testenv_run(s);
}

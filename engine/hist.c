/* engine/hist.c - log-linear (HDR style) histogram: bucket index arithmetic, recording,
 * exact merge and the statistics derived from the buckets. JSON lives in hist_json.c. */
#include "engine/hist.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#define HIST_EMPTY_MIN_INDEX UINT32_MAX

/* Index of the most significant set bit of x (x > 0). */
static int msb64(uint64_t x)
{
    return 63 - __builtin_clzll(x);
}

/* Counts index of a value (value <= highest_us). */
static uint32_t hist_index(const struct hist *h, uint64_t value_us)
{
    uint64_t x = value_us >> h->unit_magnitude;
    uint64_t sub_mask = ((uint64_t)h->sub_half_count << 1) - 1;
    int k = msb64(x | sub_mask) - (h->sub_count_magnitude - 1);
    return (uint32_t)k * h->sub_half_count + (uint32_t)(x >> k);
}

/* Bucket bounds of a counts index: lowest value and width (us). */
static void hist_bounds(const struct hist *h, uint32_t idx, uint64_t *lowest, uint64_t *width)
{
    uint32_t half = h->sub_half_count;
    uint32_t k = idx < 2 * half ? 0 : idx / half - 1;
    uint64_t j = idx - (uint64_t)k * half;
    *lowest = (j << k) << h->unit_magnitude;
    *width = 1ULL << (k + (uint32_t)h->unit_magnitude);
}

/* Highest value (inclusive) of the bucket at idx, never above highest_us. */
static uint64_t hist_bucket_highest(const struct hist *h, uint32_t idx)
{
    uint64_t lo, w;
    hist_bounds(h, idx, &lo, &w);
    uint64_t hi = lo + w - 1;
    return hi > h->highest_us ? h->highest_us : hi;
}

/* Representative (midpoint) value of the bucket at idx, never above highest_us. */
static uint64_t hist_bucket_value(const struct hist *h, uint32_t idx)
{
    uint64_t lo, w;
    hist_bounds(h, idx, &lo, &w);
    uint64_t mid = lo + w / 2;
    return mid > h->highest_us ? h->highest_us : mid;
}

/* Smallest s with 2^s >= 2 * 10^digits. */
static int sub_count_magnitude_for(int digits)
{
    uint64_t need = 2;
    for (int i = 0; i < digits; i++)
        need *= 10;
    int s = 0;
    while ((1ULL << s) < need)
        s++;
    return s;
}

int hist_init(struct hist *h, uint64_t lowest_us, uint64_t highest_us, int significant_digits)
{
    memset(h, 0, sizeof *h);
    if (lowest_us < 1 || highest_us / 2 < lowest_us || significant_digits < HIST_MIN_DIGITS ||
        significant_digits > HIST_MAX_DIGITS)
        return -EINVAL;
    h->lowest_us = lowest_us;
    h->highest_us = highest_us;
    h->significant_digits = significant_digits;
    h->unit_magnitude = msb64(lowest_us);
    h->sub_count_magnitude = sub_count_magnitude_for(significant_digits);
    h->sub_half_count = 1U << (h->sub_count_magnitude - 1);
    uint64_t len = (uint64_t)hist_index(h, highest_us) + 1;
    if (len > UINT32_MAX)
        return -EINVAL;
    h->counts_len = (uint32_t)len;
    h->counts = calloc(h->counts_len, sizeof *h->counts);
    if (h->counts == NULL) {
        memset(h, 0, sizeof *h);
        return -ENOMEM;
    }
    h->min_index = HIST_EMPTY_MIN_INDEX;
    return 0;
}

int hist_init_default(struct hist *h)
{
    return hist_init(h, HIST_DEFAULT_LOWEST_US, HIST_DEFAULT_HIGHEST_US,
                     HIST_DEFAULT_SIGNIFICANT_DIGITS);
}

void hist_destroy(struct hist *h)
{
    free(h->counts);
    memset(h, 0, sizeof *h);
}

struct hist *hist_new(uint64_t lowest_us, uint64_t highest_us, int significant_digits)
{
    struct hist *h = malloc(sizeof *h);
    if (h == NULL)
        return NULL;
    if (hist_init(h, lowest_us, highest_us, significant_digits) != 0) {
        free(h);
        return NULL;
    }
    return h;
}

struct hist *hist_new_default(void)
{
    return hist_new(HIST_DEFAULT_LOWEST_US, HIST_DEFAULT_HIGHEST_US,
                    HIST_DEFAULT_SIGNIFICANT_DIGITS);
}

void hist_free(struct hist *h)
{
    if (h == NULL)
        return;
    hist_destroy(h);
    free(h);
}

size_t hist_memory_bytes(const struct hist *h)
{
    return sizeof *h + (size_t)h->counts_len * sizeof *h->counts;
}

bool hist_grid_index(const struct hist *h, uint64_t value_us, uint32_t *index)
{
    if (value_us > h->highest_us)
        return false;
    *index = hist_index(h, value_us);
    return hist_bucket_value(h, *index) == value_us;
}

void hist_record_n(struct hist *h, uint64_t value_us, uint64_t n)
{
    if (n == 0)
        return;
    if (value_us > h->highest_us) {
        value_us = h->highest_us;
        h->clamped_count += n;
    }
    uint32_t idx = hist_index(h, value_us);
    h->counts[idx] += n;
    h->total_count += n;
    if (idx < h->min_index)
        h->min_index = idx;
    if (idx > h->max_index)
        h->max_index = idx;
}

void hist_record(struct hist *h, uint64_t value_us)
{
    hist_record_n(h, value_us, 1);
}

void hist_reset(struct hist *h)
{
    if (h->total_count != 0)
        memset(h->counts + h->min_index, 0,
               (size_t)(h->max_index - h->min_index + 1) * sizeof *h->counts);
    h->total_count = 0;
    h->clamped_count = 0;
    h->min_index = HIST_EMPTY_MIN_INDEX;
    h->max_index = 0;
}

bool hist_same_config(const struct hist *a, const struct hist *b)
{
    return a->lowest_us == b->lowest_us && a->highest_us == b->highest_us &&
           a->significant_digits == b->significant_digits;
}

int hist_add(struct hist *dst, const struct hist *src)
{
    if (!hist_same_config(dst, src))
        return -EINVAL;
    if (src->total_count == 0)
        return 0;
    for (uint32_t i = src->min_index; i <= src->max_index; i++)
        dst->counts[i] += src->counts[i];
    dst->total_count += src->total_count;
    dst->clamped_count += src->clamped_count;
    if (src->min_index < dst->min_index)
        dst->min_index = src->min_index;
    if (src->max_index > dst->max_index)
        dst->max_index = src->max_index;
    return 0;
}

bool hist_equal(const struct hist *a, const struct hist *b)
{
    return hist_same_config(a, b) && a->total_count == b->total_count &&
           a->clamped_count == b->clamped_count &&
           memcmp(a->counts, b->counts, (size_t)a->counts_len * sizeof *a->counts) == 0;
}

int hist_note_clamped(struct hist *h, uint64_t n)
{
    uint32_t top = hist_index(h, h->highest_us);
    if (n > h->counts[top] - h->clamped_count)
        return -EINVAL;
    h->clamped_count += n;
    return 0;
}

uint64_t hist_count(const struct hist *h)
{
    return h->total_count;
}

uint64_t hist_clamped_count(const struct hist *h)
{
    return h->clamped_count;
}

double hist_total_us(const struct hist *h)
{
    double sum = 0;
    if (h->total_count == 0)
        return 0;
    for (uint32_t i = h->min_index; i <= h->max_index; i++)
        if (h->counts[i] != 0)
            sum += (double)hist_bucket_value(h, i) * (double)h->counts[i];
    return sum;
}

double hist_mean(const struct hist *h)
{
    return h->total_count == 0 ? 0 : hist_total_us(h) / (double)h->total_count;
}

uint64_t hist_min(const struct hist *h)
{
    uint64_t lo, w;
    if (h->total_count == 0)
        return 0;
    hist_bounds(h, h->min_index, &lo, &w);
    return lo;
}

uint64_t hist_max(const struct hist *h)
{
    return h->total_count == 0 ? 0 : hist_bucket_highest(h, h->max_index);
}

/* Nearest rank (1-based) of percentile pct among count values. */
static uint64_t percentile_rank(double pct, uint64_t count)
{
    const double slack = 1e-9; /* absorb float noise: 99.9% of 1000 is rank 999 */
    double exact = pct / 100.0 * (double)count;
    uint64_t rank = (uint64_t)exact;
    if (exact - (double)rank > slack)
        rank++;
    if (rank < 1)
        rank = 1;
    return rank > count ? count : rank;
}

uint64_t hist_value_at_percentile(const struct hist *h, double pct)
{
    if (h->total_count == 0)
        return 0;
    if (pct <= 0)
        return hist_min(h);
    uint64_t rank = percentile_rank(pct > 100 ? 100 : pct, h->total_count);
    uint64_t seen = 0;
    for (uint32_t i = h->min_index; i <= h->max_index; i++) {
        seen += h->counts[i];
        if (seen >= rank)
            return hist_bucket_highest(h, i);
    }
    return hist_max(h);
}

bool hist_iter_next(const struct hist *h, struct hist_iter *it, struct hist_bucket *out)
{
    if (h->total_count == 0)
        return false;
    uint32_t i = it->next_index < h->min_index ? h->min_index : it->next_index;
    for (; i <= h->max_index; i++) {
        if (h->counts[i] == 0)
            continue;
        uint64_t w;
        hist_bounds(h, i, &out->lowest_us, &w);
        out->highest_us = hist_bucket_highest(h, i);
        out->value_us = hist_bucket_value(h, i);
        out->count = h->counts[i];
        it->next_index = i + 1;
        return true;
    }
    it->next_index = h->max_index + 1;
    return false;
}

/* engine/hist.h - log-linear (HDR style) histogram of microsecond values: fixed memory
 * allocated at init, O(1) record, exact merge of histograms with the same configuration,
 * percentiles within the configured precision, JSON serialisation of non-zero buckets.
 * Default range 1 us .. 1 h at 3 significant digits (relative bucket width < 0.1 %). */
#ifndef FLEETSIM_ENGINE_HIST_H
#define FLEETSIM_ENGINE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#define HIST_DEFAULT_LOWEST_US 1ULL
#define HIST_DEFAULT_HIGHEST_US 3600000000ULL /* one hour */
#define HIST_DEFAULT_SIGNIFICANT_DIGITS 3
#define HIST_MIN_DIGITS 1
#define HIST_MAX_DIGITS 5

/* A histogram. Fields are private to hist.c; embed it or allocate it with hist_new.
 * Layout: bucket 0 covers [0, 2^s) units at width 1 unit; bucket k >= 1 covers
 * [2^(s-1+k), 2^(s+k)) units at width 2^k, where 2^s >= 2 * 10^digits and a unit is
 * 2^floor(log2(lowest_us)) microseconds. */
struct hist {
    uint64_t lowest_us;
    uint64_t highest_us;
    int significant_digits;
    int unit_magnitude;      /* log2 of one unit in us */
    int sub_count_magnitude; /* s above */
    uint32_t sub_half_count; /* 2^(s-1) */
    uint32_t counts_len;
    uint32_t min_index; /* lowest non-empty index (valid when total_count > 0) */
    uint32_t max_index; /* highest non-empty index */
    uint64_t total_count;
    uint64_t clamped_count; /* records above highest_us, counted at highest_us */
    uint64_t *counts;
};

/* One non-empty bucket, as produced by hist_iter_next. */
struct hist_bucket {
    uint64_t value_us;   /* representative value (midpoint; maps back to this bucket) */
    uint64_t lowest_us;  /* lowest value in the bucket */
    uint64_t highest_us; /* highest value in the bucket (inclusive) */
    uint64_t count;
};

/* Iterator over non-empty buckets, lowest first. Initialise with HIST_ITER_INIT. */
struct hist_iter {
    uint32_t next_index;
};
#define HIST_ITER_INIT \
    {                  \
        0              \
    }

/* Initialise h for values in [lowest_us, highest_us] (lowest_us >= 1, highest_us >= 2 *
 * lowest_us) with significant_digits in [HIST_MIN_DIGITS, HIST_MAX_DIGITS]; allocates the
 * bucket array (all memory the histogram will ever use). Returns 0, -EINVAL for a bad
 * configuration, -ENOMEM. On error h holds no memory. Free with hist_destroy. */
int hist_init(struct hist *h, uint64_t lowest_us, uint64_t highest_us, int significant_digits);

/* hist_init with the defaults (1 us, 1 h, 3 digits). */
int hist_init_default(struct hist *h);

/* Free the memory of a histogram set up by hist_init (not h itself). Safe on a zeroed h. */
void hist_destroy(struct hist *h);

/* Allocate and initialise a histogram (see hist_init). Returns NULL on bad configuration or
 * out of memory. Free with hist_free. */
struct hist *hist_new(uint64_t lowest_us, uint64_t highest_us, int significant_digits);

/* hist_new with the defaults (1 us, 1 h, 3 digits). */
struct hist *hist_new_default(void);

/* Free a histogram from hist_new (NULL is fine). */
void hist_free(struct hist *h);

/* Bytes of memory one histogram uses (struct plus bucket array). */
size_t hist_memory_bytes(const struct hist *h);

/* Record one value (microseconds). 0 is allowed; values above highest_us are recorded as
 * highest_us and counted in hist_clamped_count. O(1). */
void hist_record(struct hist *h, uint64_t value_us);

/* True when value_us is the value hist_to_json writes for its bucket (a bucket's
 * representative, at most the highest trackable value); *index gets the bucket's index. */
bool hist_grid_index(const struct hist *h, uint64_t value_us, uint32_t *index);

/* Record a value n times. */
void hist_record_n(struct hist *h, uint64_t value_us, uint64_t n);

/* Zero every count (memory stays allocated). */
void hist_reset(struct hist *h);

/* True when a and b have the same lowest, highest and significant digits. */
bool hist_same_config(const struct hist *a, const struct hist *b);

/* Add src's counts into dst exactly (bucket for bucket). Returns 0, or -EINVAL when the
 * configurations differ (dst unchanged). */
int hist_add(struct hist *dst, const struct hist *src);

/* True when a and b have the same configuration and identical counts in every bucket. */
bool hist_equal(const struct hist *a, const struct hist *b);

/* Mark n of the values already counted at highest_us as clamped (used when loading a
 * histogram together with its clamped count). Returns 0, or -EINVAL when the top bucket
 * does not hold that many unmarked values. */
int hist_note_clamped(struct hist *h, uint64_t n);

/* Number of values recorded. */
uint64_t hist_count(const struct hist *h);

/* Number of values recorded above highest_us (and counted at highest_us). */
uint64_t hist_clamped_count(const struct hist *h);

/* Sum of recorded values estimated from the buckets' representative values (us). */
double hist_total_us(const struct hist *h);

/* Mean of recorded values (us), from the buckets' representative values; 0 when empty. */
double hist_mean(const struct hist *h);

/* Lowest value of the lowest non-empty bucket (us); 0 when empty. */
uint64_t hist_min(const struct hist *h);

/* Highest value of the highest non-empty bucket (us); 0 when empty. */
uint64_t hist_max(const struct hist *h);

/* Value at percentile pct (0 < pct <= 100; pct <= 0 gives hist_min): the highest value of
 * the bucket holding the nearest-rank value ceil(pct/100 * count). 0 when empty. */
uint64_t hist_value_at_percentile(const struct hist *h, double pct);

/* Advance it to the next non-empty bucket and fill *out. Returns false when done. */
bool hist_iter_next(const struct hist *h, struct hist_iter *it, struct hist_bucket *out);

/* The non-empty buckets as a new JSON array [[value_us, count], ...] (lowest first), or
 * NULL on out of memory. Caller owns the result (json_object_put). */
json_object *hist_to_json(const struct hist *h);

/* Add the buckets of a JSON array made by hist_to_json (from a histogram with h's
 * configuration) into h. Returns 0, or -EINVAL with a one-line reason in err when the
 * array is malformed or a value lies outside h's range (h unchanged then). */
int hist_from_json(struct hist *h, const json_object *buckets, char *err, size_t errlen);

#endif

/* engine/hist_json.c - a histogram's non-empty buckets to JSON ([[value_us, count], ...])
 * and back. The value written is the bucket's representative, which maps back to the same
 * bucket, so the round trip is exact. */
#include "engine/hist.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>

json_object *hist_to_json(const struct hist *h)
{
    json_object *arr = json_object_new_array();
    struct hist_iter it = HIST_ITER_INIT;
    struct hist_bucket b;
    if (arr == NULL)
        return NULL;
    while (hist_iter_next(h, &it, &b)) {
        json_object *pair = json_object_new_array();
        if (pair == NULL || json_object_array_add(arr, pair) != 0) {
            json_object_put(pair);
            json_object_put(arr);
            return NULL;
        }
        json_object_array_add(pair, json_object_new_int64((int64_t)b.value_us));
        json_object_array_add(pair, json_object_new_int64((int64_t)b.count));
        if (json_object_array_length(pair) != 2) {
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

/* Read a non-negative JSON integer (a json int, never a double or string). */
static bool json_u64(const json_object *v, uint64_t *out)
{
    if (!json_object_is_type(v, json_type_int))
        return false;
    int64_t x = json_object_get_int64(v);
    if (x < 0 || x == INT64_MAX)
        return false;
    *out = (uint64_t)x;
    return true;
}

/* Validate entry i of the bucket array into value and count. */
static int bucket_entry(const struct hist *h, const json_object *arr, size_t i, uint64_t *value,
                        uint64_t *count, char *err, size_t errlen)
{
    const json_object *pair = json_object_array_get_idx(arr, i);
    if (!json_object_is_type(pair, json_type_array) || json_object_array_length(pair) != 2 ||
        !json_u64(json_object_array_get_idx(pair, 0), value) ||
        !json_u64(json_object_array_get_idx(pair, 1), count)) {
        snprintf(err, errlen, "bucket %zu is not a pair of non-negative integers [value_us,count]",
                 i);
        return -EINVAL;
    }
    if (*value > h->highest_us) {
        snprintf(err, errlen,
                 "bucket %zu: value %" PRIu64 " us is above the histogram's highest %" PRIu64 " us",
                 i, *value, h->highest_us);
        return -EINVAL;
    }
    return 0;
}

int hist_from_json(struct hist *h, const json_object *buckets, char *err, size_t errlen)
{
    uint64_t value, count, sum = h->total_count;
    if (!json_object_is_type(buckets, json_type_array)) {
        snprintf(err, errlen, "buckets is not a JSON array");
        return -EINVAL;
    }
    size_t n = json_object_array_length(buckets);
    uint32_t index, last = 0;
    for (size_t i = 0; i < n; i++) {
        int rc = bucket_entry(h, buckets, i, &value, &count, err, errlen);
        if (rc != 0)
            return rc;
        if (!hist_grid_index(h, value, &index)) {
            snprintf(err, errlen,
                     "bucket %zu: value %" PRIu64 " us is not on the histogram's grid (expected "
                     "the values fleetsim writes)",
                     i, value);
            return -EINVAL;
        }
        if (i > 0 && index <= last) {
            snprintf(err, errlen,
                     "bucket %zu: value %" PRIu64 " us repeats or comes before an earlier bucket "
                     "(expected each bucket once, in increasing order)",
                     i, value);
            return -EINVAL;
        }
        last = index;
        if (sum + count < sum) {
            snprintf(err, errlen, "bucket %zu: counts overflow", i);
            return -EINVAL;
        }
        sum += count;
    }
    for (size_t i = 0; i < n; i++) {
        bucket_entry(h, buckets, i, &value, &count, err, errlen);
        hist_record_n(h, value, count);
    }
    return 0;
}

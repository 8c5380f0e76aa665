/* bench/hist_bench.c - cost of measuring: nanoseconds per hist_record and per
 * metrics_answered over pseudo-random latencies, and memory per histogram and per series.
 * Prints figures only (no pass/fail). Each loop is bounded in records and in time. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine/clock.h"
#include "engine/hist.h"
#include "engine/metrics.h"

#define MAX_RECORDS 20000000ULL /* per measurement */
#define TIME_BUDGET_NS (2 * CLOCK_NS_PER_S)
#define BATCH 4096                /* records between clock reads */
#define MAX_LATENCY_US 2000000ULL /* values spread over 0 .. 2 s */

static uint64_t xorshift(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Fill a table of values so the loops measure recording, not the generator. */
static uint64_t *make_values(void)
{
    uint64_t *v = malloc(BATCH * sizeof *v), seed = 0x9e3779b97f4a7c15ULL;
    for (size_t i = 0; v != NULL && i < BATCH; i++)
        v[i] = xorshift(&seed) % MAX_LATENCY_US;
    return v;
}

static void bench_hist(const uint64_t *values)
{
    struct hist *h = hist_new_default();
    uint64_t n = 0, start = clock_now_ns(), now = start;
    if (h == NULL)
        return;
    while (n < MAX_RECORDS && now - start < TIME_BUDGET_NS) {
        for (size_t i = 0; i < BATCH; i++)
            hist_record(h, values[i]);
        n += BATCH;
        now = clock_now_ns();
    }
    printf("hist_record: %.2f ns per record (%" PRIu64 " records, p99 %" PRIu64 " us)\n",
           (double)(now - start) / (double)n, n, hist_value_at_percentile(h, 99));
    printf("histogram memory: %zu bytes (1 us .. 1 h, 3 significant digits)\n",
           hist_memory_bytes(h));
    hist_free(h);
}

static void bench_metrics(const uint64_t *values, bool with_interval)
{
    struct metrics *m = metrics_new(with_interval);
    struct metrics_series *s = m ? metrics_series(m, "default", "agent", "heartbeat") : NULL;
    uint64_t n = 0, start = clock_now_ns(), now = start;
    if (s == NULL) {
        metrics_free(m);
        return;
    }
    while (n < MAX_RECORDS && now - start < TIME_BUDGET_NS) {
        for (size_t i = 0; i < BATCH; i++) {
            struct request_timing t = {n, n + values[i] * 10, 0, n + values[i] * 1000, 0, 0, 0};
            metrics_answered(s, &t, 200, false);
            n++;
        }
        now = clock_now_ns();
    }
    printf("metrics_answered (%s interval view): %.2f ns per call (%" PRIu64 " calls)\n",
           with_interval ? "with" : "without", (double)(now - start) / (double)n, n);
    printf("series memory (%s interval view): %zu bytes\n", with_interval ? "with" : "without",
           sizeof *s +
               (with_interval ? 6 : 3) * (hist_memory_bytes(&s->duration) - sizeof s->duration));
    metrics_free(m);
}

int main(void)
{
    uint64_t *values = make_values();
    if (values == NULL)
        return 1;
    bench_hist(values);
    bench_metrics(values, false);
    bench_metrics(values, true);
    free(values);
    return 0;
}

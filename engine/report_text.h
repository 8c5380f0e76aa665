/* engine/report_text.h - human-readable reports: the end-of-run text summary (series,
 * outcomes, accounting identity, thresholds, bottleneck verdict), the one-line live progress
 * and the bottleneck judgement they share. */
#ifndef FLEETSIM_ENGINE_REPORT_TEXT_H
#define FLEETSIM_ENGINE_REPORT_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "engine/metrics.h"
#include "engine/run_result.h"
#include "engine/threshold.h"

/* Lag p99 above this means fleetsim itself was late (the bottleneck). */
#define REPORT_LAG_P99_LIMIT_US 10000ULL

/* What the text summary needs besides the registry. */
struct report_text_opts {
    const struct threshold_result *thresholds; /* may be NULL when n_thresholds == 0 */
    size_t n_thresholds;
    bool saturated_core;     /* the caller saw a core at 100 % (fleetsim was the bottleneck) */
    int64_t known_in_flight; /* the caller's count of requests in flight at the end, -1 unknown */
    bool ascii;              /* "ok"/"FAILED" instead of the check marks */
    const struct run_result *result; /* the run's verdict, printed instead of judging the
                                        bottleneck from m alone; NULL: judge it from m */
};

/* Write a microsecond value as milliseconds with sensible precision ("0.412", "12.35",
 * "431.2", "5021") into buf (n bytes; 24 is enough). Returns buf. */
char *report_format_ms(char *buf, size_t n, uint64_t value_us);

/* Judge whether fleetsim itself was the bottleneck: lag p99 over all series above
 * REPORT_LAG_P99_LIMIT_US, any dropped request, or saturated_core. Writes the reasons
 * ("lag p99 23.1 ms > 10 ms; 12 dropped") into why (n bytes, may be NULL).
 * Returns true when it was. */
bool report_bottleneck(const struct metrics *m, bool saturated_core, char *why, size_t n);

/* The p99 (us) of the series trend metric (http_req_lag, http_req_wait, ...) over every series
 * of m merged; 0 without data. */
uint64_t report_merged_p99(const struct metrics *m, const char *metric);

/* True when the lag p99 over all series of m is above REPORT_LAG_P99_LIMIT_US; writes
 * "lag p99 23.1 ms > 10 ms" (or "<= 10 ms") into why (n bytes). */
bool report_bottleneck_lag(const struct metrics *m, char *why, size_t n);

/* Write the end-of-run summary to f: per series count, rate/s, p50/p90/p95/p99/p99.9/max of
 * http_req_duration in ms and outcome counts; tagged metrics; the accounting identity (and
 * a loud line when it does not balance); thresholds with their observed values; the
 * bottleneck verdict. Returns 0, or -EIO when writing failed. */
int report_text_write(FILE *f, const struct metrics *m, const struct report_text_opts *opts);

/* Format the one-line live progress for an interval into buf (n bytes, no newline):
 * elapsed time, request rate and latency percentiles of the interval, its failures,
 * errors, timeouts and drops, and the totals' scheduled and in-flight counts.
 * interval: a registry filled by metrics_interval_take; total: the cumulative registry
 * (may be NULL). Returns the length written (truncated to n - 1). */
size_t report_progress_line(char *buf, size_t n, const struct metrics *interval,
                            const struct metrics *total, double interval_s, double elapsed_s);

#endif

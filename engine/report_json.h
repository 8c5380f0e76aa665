/* engine/report_json.h - machine-readable outputs: the summary JSON (docs/metrics.md shape,
 * written atomically), its reader (loads a summary back into a registry exactly, for
 * `fleetsim merge`) and the JSONL interval record (--interval-log). */
#ifndef FLEETSIM_ENGINE_REPORT_JSON_H
#define FLEETSIM_ENGINE_REPORT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <json-c/json.h>

#include "engine/metrics.h"
#include "engine/run_result.h"
#include "engine/threshold.h"

/* Run metadata for the summary. */
struct report_meta {
    const char *version; /* fleetsim version */
    uint64_t seed;
    uint32_t shard_k, shard_n;       /* shard K/N; n = 1 for an unsharded run */
    time_t started_at, ended_at;     /* wall clock, seconds since the epoch */
    json_object *config;             /* borrowed; the caller's config without secrets (NULL: {}) */
    const struct run_result *result; /* the top-level "result" object; NULL: none */
};

/* Metadata read back from a summary file. Free with report_info_clear. */
struct report_info {
    char version[64];
    uint64_t seed;
    uint32_t shard_k, shard_n;
    time_t started_at, ended_at;
    double duration_s;
    json_object *config;    /* owned (json_object_put in report_info_clear) */
    char **threshold_exprs; /* owned; the thresholds' specs as written */
    size_t n_thresholds;
    bool has_result;          /* the summary has a "result" object (older ones do not) */
    struct run_result result; /* it, when has_result */
};

/* Build the summary as a JSON object (caller owns it): fleetsim{version,seed,shard,
 * histogram}, result (when meta->result is set), config, started_at, ended_at, duration_s, series[] (one entry per request
 * series and trend metric: count, rate_per_s, min, mean, p50, p90, p95, p99, p999, max in
 * ms and buckets [[value_us,count],...]), counters[] (metric, tags, value; rates also
 * hits and total), accounting{}, thresholds[{expr,ok,observed}]. NULL on out of memory. */
json_object *report_json_build(const struct report_meta *meta, const struct metrics *m,
                               const struct threshold_result *results, size_t n_results);

/* Write the summary to path with engine/out_file.h's rules ("-" standard output, else an
 * atomic replace of a regular file or a new one). Returns 0, or a negative errno with a
 * one-line reason in err (the file is then untouched). */
int report_json_write(const char *path, const struct report_meta *meta, const struct metrics *m,
                      const struct threshold_result *results, size_t n_results, char *err,
                      size_t errlen);

/* Add the data of a parsed summary object into m (series histograms, outcome counters,
 * tagged metrics; m's elapsed time becomes the larger of the two) and fill *info when not
 * NULL. Returns 0, or -EINVAL with a one-line reason in err (m may then hold part of it). */
int report_json_load(const json_object *summary, struct metrics *m, struct report_info *info,
                     char *err, size_t errlen);

/* Read the summary file at path into m (see report_json_load). Returns 0, -errno for I/O,
 * -EINVAL for content, with a one-line reason in err naming the file. */
int report_json_read(const char *path, struct metrics *m, struct report_info *info, char *err,
                     size_t errlen);

/* Free what report_json_read put in info and zero it. */
void report_info_clear(struct report_info *info);

/* One interval record as report_interval_jsonl writes it, line end included, in a new string
 * (caller frees); NULL when out of memory. */
char *report_interval_line(const struct metrics *interval, const struct metrics *total, time_t now,
                           double elapsed_s, double interval_s);

/* Append one interval record as a single JSON line to f: {"time": RFC 3339, "elapsed_s",
 * "interval_s", "series": [{tags, count, rate_per_s, failed, errors, timed_out, dropped,
 * status classes, p50/p90/p99/max of duration and p99 of lag in ms}], "scheduled",
 * "in_flight"}. interval: a registry filled by metrics_interval_take; total: cumulative
 * (may be NULL). Returns 0, -ENOMEM or -EIO. */
int report_interval_jsonl(FILE *f, const struct metrics *interval, const struct metrics *total,
                          time_t now, double elapsed_s, double interval_s);

#endif

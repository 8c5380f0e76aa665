/* engine/report_html.h - the HTML report: one self-contained page (inline CSS and SVG, no
 * scripts, no external fonts or images) rendered from a summary JSON (engine/report_json.h
 * shape): run metadata, verdicts, thresholds with pass/fail, the accounting identity, per-series
 * latency tables and outcomes, actor metrics, the config, latency percentile curves per series
 * from the histogram buckets and, given the --interval-log, request rate and p99 over time. */
#ifndef FLEETSIM_ENGINE_REPORT_HTML_H
#define FLEETSIM_ENGINE_REPORT_HTML_H

#include <stddef.h>
#include <stdio.h>

#include <json-c/json.h>

/* Write the report of summary (a parsed summary object) to f. intervals: an array of interval
 * records (report_html_read_intervals) or NULL for no time charts. Returns 0, -EINVAL with a
 * one-line reason in err when summary is not a valid summary, -ENOMEM, or -EIO. */
int report_html_write(FILE *f, const json_object *summary, const json_object *intervals, char *err,
                      size_t errlen);

/* Read an --interval-log file (a regular file of at most IN_FILE_MAX_BYTES, engine/in_file.h;
 * one interval record per line, blank lines ignored) into a new array (caller owns it:
 * json_object_put). A torn last line (no line end, not a record: a run cut short) is skipped
 * with a warning line in err; otherwise err is empty on success. Returns NULL with a one-line
 * reason in err (unreadable file, or the number of a line that is not an interval record). */
json_object *report_html_read_intervals(const char *path, char *err, size_t errlen);

/* Write the report of summary to out_path with engine/out_file.h's rules ("-" standard output,
 * else an atomic replace of a regular file or a new one, never a special file), reading
 * interval_log_path (NULL: none) for the time charts. This is the call for `fleetsim run
 * --html` (summary from report_json_build) and `fleetsim merge --html`. Returns 0 (err then
 * holds the interval log's warning, or is empty) or a negative errno with a one-line reason in
 * err (out_path is then untouched). */
int report_html_write_summary(const json_object *summary, const char *interval_log_path,
                              const char *out_path, char *err, size_t errlen);

/* report_html_write_summary with the summary read from the file summary_path. */
int report_html_write_file(const char *summary_path, const char *interval_log_path,
                           const char *out_path, char *err, size_t errlen);

#endif

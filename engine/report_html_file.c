/* engine/report_html_file.c - the HTML report's files: reads the --interval-log (JSON lines)
 * and writes the report through engine/out_file (a regular file replaced atomically, so it is
 * either complete or absent; "-" for standard output; never over a special file). */
#include "engine/report_html.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/in_file.h"
#include "engine/out_file.h"
#include "engine/summary_input.h"

/* True when the len bytes at line are only spaces, tabs and line ends. */
static bool blank(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (strchr(" \t\r\n", line[i]) == NULL || line[i] == '\0')
            return false;
    return true;
}

/* The interval record on the len bytes at line (one whole JSON object), or NULL. */
static json_object *parse_record(const char *line, size_t len)
{
    json_tokener *tok = json_tokener_new();
    json_object *rec = tok ? json_tokener_parse_ex(tok, line, (int)len) : NULL;
    bool whole =
        rec != NULL && json_tokener_get_error(tok) == json_tokener_success &&
        blank(line + json_tokener_get_parse_end(tok), len - json_tokener_get_parse_end(tok));
    json_tokener_free(tok);
    if (whole && summary_input_is_interval(rec))
        return rec;
    json_object_put(rec);
    return NULL;
}

/* Adds the records of the len bytes at text to arr, line by line. Returns 0, 1 when only a
 * torn last line (no line end, not a record) was skipped, or -(line number) of a bad line. */
static long add_records(json_object *arr, const char *text, size_t len)
{
    long lineno = 0;
    for (size_t at = 0; at < len;) {
        const char *nl = memchr(text + at, '\n', len - at);
        size_t n = nl ? (size_t)(nl - (text + at)) : len - at;
        lineno++;
        if (!blank(text + at, n)) {
            json_object *rec = parse_record(text + at, n);
            if (rec == NULL && nl == NULL)
                return 1;
            if (rec == NULL || json_object_array_add(arr, rec) != 0) {
                json_object_put(rec);
                return -lineno;
            }
        }
        at += n + 1;
    }
    return 0;
}

json_object *report_html_read_intervals(const char *path, char *err, size_t errlen)
{
    char *text = NULL, why[256];
    size_t len = 0;
    err[0] = '\0';
    if (in_file_read(path, IN_FILE_MAX_BYTES, &text, &len, why, sizeof why) != 0) {
        snprintf(err, errlen, "interval log %s %s", path, why);
        return NULL;
    }
    json_object *arr = json_object_new_array();
    long rc = arr ? add_records(arr, text, len) : 0;
    free(text);
    if (arr == NULL) {
        snprintf(err, errlen, "interval log %s: out of memory", path);
    } else if (rc < 0) {
        snprintf(err, errlen,
                 "interval log %s: line %ld is not an interval record (expected one JSON object "
                 "per line, as --interval-log writes)",
                 path, -rc);
        json_object_put(arr);
        arr = NULL;
    } else if (rc > 0) {
        snprintf(err, errlen,
                 "warning: interval log %s: its last line is incomplete (the run was cut short?) "
                 "and was skipped; the %zu lines before it are used",
                 path, json_object_array_length(arr));
    }
    return arr;
}

/* What fill_report writes. */
struct html_parts {
    const json_object *summary, *intervals;
};

/* Writes the report to f (an out_file_fill_fn). */
static int fill_report(FILE *f, void *arg, char *err, size_t errlen)
{
    const struct html_parts *p = arg;
    errno = 0;
    int rc = report_html_write(f, p->summary, p->intervals, err, errlen);
    return rc == -EIO && errno != 0 ? -errno : rc;
}

int report_html_write_summary(const json_object *summary, const char *interval_log_path,
                              const char *out_path, char *err, size_t errlen)
{
    char why[512] = "";
    struct html_parts parts = {summary, NULL};
    if (errlen > 0)
        err[0] = '\0';
    if (interval_log_path != NULL) {
        json_object *intervals = report_html_read_intervals(interval_log_path, err, errlen);
        if (intervals == NULL)
            return -EINVAL;
        parts.intervals = intervals;
    }
    int rc = out_file_write(out_path, fill_report, &parts, why, sizeof why);
    json_object_put((json_object *)parts.intervals);
    if (rc != 0)
        snprintf(err, errlen, "cannot write HTML report %s: %s", out_file_name(out_path), why);
    return rc;
}

int report_html_write_file(const char *summary_path, const char *interval_log_path,
                           const char *out_path, char *err, size_t errlen)
{
    json_object *summary = summary_input_parse(summary_path, err, errlen);
    if (summary == NULL)
        return -EINVAL;
    int rc = report_html_write_summary(summary, interval_log_path, out_path, err, errlen);
    json_object_put(summary);
    return rc;
}

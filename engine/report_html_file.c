/* engine/report_html_file.c - the HTML report's files: reads the --interval-log (JSON lines)
 * and writes the report through engine/out_file (a regular file replaced atomically, so it is
 * either complete or absent; "-" for standard output; never over a special file). */
#include "engine/report_html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "engine/out_file.h"

/* True when line holds only spaces, tabs and line ends. */
static bool blank(const char *line)
{
    return line[strspn(line, " \t\r\n")] == '\0';
}

json_object *report_html_read_intervals(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    json_object *arr;
    if (f == NULL) {
        snprintf(err, errlen, "cannot read interval log %s: %s", path, strerror(errno));
        return NULL;
    }
    arr = json_object_new_array();
    while (arr != NULL && getline(&line, &cap, f) >= 0) {
        lineno++;
        if (blank(line))
            continue;
        json_object *rec = json_tokener_parse(line);
        if (rec == NULL || !json_object_is_type(rec, json_type_object) ||
            json_object_array_add(arr, rec) != 0) {
            json_object_put(rec);
            snprintf(err, errlen, "interval log %s: line %zu is not a JSON object", path, lineno);
            json_object_put(arr);
            arr = NULL;
        }
    }
    if (arr != NULL && ferror(f)) {
        snprintf(err, errlen, "cannot read interval log %s: %s", path, strerror(errno));
        json_object_put(arr);
        arr = NULL;
    } else if (arr == NULL && lineno == 0) {
        snprintf(err, errlen, "interval log %s: out of memory", path);
    }
    free(line);
    fclose(f);
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
    json_object *summary = json_object_from_file(summary_path);
    if (summary == NULL) {
        const char *reason = json_util_get_last_err();
        snprintf(err, errlen, "cannot read summary %s: %s", summary_path,
                 reason ? reason : "not JSON");
        err[strcspn(err, "\n")] = '\0';
        return -EINVAL;
    }
    int rc = report_html_write_summary(summary, interval_log_path, out_path, err, errlen);
    json_object_put(summary);
    return rc;
}

/* engine/report_html_file.c - the HTML report's files: reads the --interval-log (JSON lines)
 * and writes the report atomically (temporary file, fsync, rename), so an HTML file is either
 * complete or absent. */
#include "engine/report_html.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PATH_BYTES 4096

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

/* Write the report into the new file tmp and make it durable. */
static int write_tmp(const char *tmp, const json_object *summary, const json_object *intervals,
                     char *err, size_t errlen)
{
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        int e = errno;
        snprintf(err, errlen, "%s", strerror(e));
        return -e;
    }
    int rc = report_html_write(f, summary, intervals, err, errlen);
    if (fflush(f) != 0 && rc == 0) {
        rc = -errno;
        snprintf(err, errlen, "%s", strerror(-rc));
    }
    if (rc == 0 && fsync(fileno(f)) != 0) {
        rc = -errno;
        snprintf(err, errlen, "%s", strerror(-rc));
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = -errno;
        snprintf(err, errlen, "%s", strerror(-rc));
    }
    return rc;
}

int report_html_write_summary(const json_object *summary, const char *interval_log_path,
                              const char *out_path, char *err, size_t errlen)
{
    char tmp[PATH_BYTES], why[512] = "";
    json_object *intervals = NULL;
    if (interval_log_path != NULL) {
        intervals = report_html_read_intervals(interval_log_path, err, errlen);
        if (intervals == NULL)
            return -EINVAL;
    }
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp.%ld", out_path, (long)getpid()) >= sizeof tmp) {
        json_object_put(intervals);
        snprintf(err, errlen, "HTML report path too long: %s", out_path);
        return -ENAMETOOLONG;
    }
    int rc = write_tmp(tmp, summary, intervals, why, sizeof why);
    json_object_put(intervals);
    if (rc == 0 && rename(tmp, out_path) != 0) {
        rc = -errno;
        snprintf(why, sizeof why, "%s", strerror(-rc));
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(err, errlen, "cannot write HTML report %s: %s", out_path, why);
    }
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

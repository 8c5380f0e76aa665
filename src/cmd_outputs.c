/* src/cmd_outputs.c - shared by `fleetsim merge` and `fleetsim report` (see cmd_outputs.h):
 * their command line (files and a handful of long options, values checked with engine/parse.h,
 * one-line errors in the format of the run's options) and threshold evaluation. */
#include "src/cmd_outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/parse.h"

static const struct {
    const char *name;
    enum outputs_opt id;
} names[] = {
    {"summary-json", OUTPUTS_OPT_SUMMARY_JSON},
    {"html", OUTPUTS_OPT_HTML},
    {"interval-log", OUTPUTS_OPT_INTERVAL_LOG},
    {"threshold", OUTPUTS_OPT_THRESHOLD},
};
#define N_NAMES (sizeof names / sizeof names[0])

static int usage(char *err, size_t errlen, const char *prog, const char *what, const char *value,
                 const char *reason)
{
    parse_error_line(err, errlen, prog, what, value, reason);
    return EXIT_STATUS_USAGE;
}

static int push(const char ***arr, size_t *n, const char *s)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* Store the value of one option (already known to be allowed). */
static int store(struct outputs_args *a, enum outputs_opt id, const char *prog, const char *opt,
                 const char *value, char *err, size_t errlen)
{
    char reason[256];
    const char **slot = id == OUTPUTS_OPT_SUMMARY_JSON   ? &a->summary_json
                        : id == OUTPUTS_OPT_HTML         ? &a->html
                        : id == OUTPUTS_OPT_INTERVAL_LOG ? &a->interval_log
                                                         : NULL;
    if (slot == NULL) {
        if (*value == '\0')
            return usage(err, errlen, prog, opt, value,
                         "is empty (expected METRIC[{tag:value,...}]:EXPR, e.g. "
                         "http_req_failed:rate<0.001)");
        if (push(&a->thresholds, &a->n_thresholds, value) != 0)
            return usage(err, errlen, prog, opt, NULL, "out of memory (expected fewer thresholds)");
        return 0;
    }
    if (*slot != NULL)
        return usage(err, errlen, prog, opt, NULL,
                     "given more than once (expected it at most once)");
    int rc = id == OUTPUTS_OPT_INTERVAL_LOG ? parse_readable_file(value, reason, sizeof reason)
                                            : parse_writable_path(value, reason, sizeof reason);
    if (rc != 0)
        return usage(err, errlen, prog, opt, value, reason);
    if (out_file_is_stdout(value) && id != OUTPUTS_OPT_INTERVAL_LOG &&
        (out_file_is_stdout(a->summary_json) || out_file_is_stdout(a->html)))
        return usage(err, errlen, prog, opt, value,
                     "is standard output, already taken by another output (expected one output "
                     "on standard output, the others in files)");
    *slot = value;
    return 0;
}

/* One "--..." element at argv[*i]; advances *i past a separate value. */
static int option(int argc, char **argv, int *i, const char *prog, unsigned allowed,
                  struct outputs_args *a, char *err, size_t errlen)
{
    const char *elem = argv[*i];
    size_t len = strcspn(elem + 2, "=");
    char opt[64];
    snprintf(opt, sizeof opt, "%.*s", (int)(len + 2 < sizeof opt ? len + 2 : sizeof opt - 1), elem);
    if (strcmp(opt, "--help") == 0 && elem[len + 2] == '\0') {
        a->help = true;
        return 0;
    }
    if ((allowed & OUTPUTS_OPT_ALLOW_PARTIAL) && strcmp(opt, "--allow-partial") == 0 &&
        elem[len + 2] == '\0') {
        a->allow_partial = true;
        return 0;
    }
    for (size_t k = 0; k < N_NAMES; k++) {
        if (!(allowed & names[k].id) || strlen(names[k].name) != len ||
            strncmp(elem + 2, names[k].name, len) != 0)
            continue;
        if (elem[len + 2] == '=')
            return store(a, names[k].id, prog, opt, elem + len + 3, err, errlen);
        if (*i + 1 >= argc) {
            char reason[96];
            snprintf(reason, sizeof reason, "missing value (expected %s)",
                     names[k].id == OUTPUTS_OPT_THRESHOLD ? "METRIC[{tag:value,...}]:EXPR"
                                                          : "a file name");
            return usage(err, errlen, prog, opt, NULL, reason);
        }
        *i += 1;
        return store(a, names[k].id, prog, opt, argv[*i], err, errlen);
    }
    char reason[128];
    snprintf(reason, sizeof reason, "(see %s --help)", prog);
    return usage(err, errlen, prog, "unknown option", opt, reason);
}

int outputs_args_parse(int argc, char **argv, const char *prog, unsigned allowed,
                       struct outputs_args *a, char *err, size_t errlen)
{
    bool files_only = false;
    memset(a, 0, sizeof *a);
    if (err && errlen)
        err[0] = '\0';
    for (int i = 1; i < argc && !a->help; i++) {
        const char *elem = argv[i];
        if (!files_only && strcmp(elem, "--") == 0) {
            files_only = true;
        } else if (!files_only && strncmp(elem, "--", 2) == 0) {
            int rc = option(argc, argv, &i, prog, allowed, a, err, errlen);
            if (rc != 0)
                return rc;
        } else if (!files_only && elem[0] == '-' && elem[1] != '\0') {
            char reason[128];
            snprintf(reason, sizeof reason, "(see %s --help)", prog);
            return usage(err, errlen, prog, "unknown option", elem, reason);
        } else if (push(&a->files, &a->n_files, elem) != 0) {
            return usage(err, errlen, prog, elem, NULL, "out of memory (expected fewer files)");
        }
    }
    return 0;
}

FILE *outputs_text_stream(const struct outputs_args *a)
{
    return out_file_is_stdout(a->summary_json) || out_file_is_stdout(a->html) ? stderr : stdout;
}

void outputs_args_free(struct outputs_args *a)
{
    free(a->files);
    free(a->thresholds);
    memset(a, 0, sizeof *a);
}

/* The distinct scenario tags of m's series and tagged metrics (pointers into m), at most max. */
static size_t scenarios_of(const struct metrics *m, const char **names, size_t max)
{
    size_t n = 0;
    size_t total = metrics_series_count(m) + metrics_tagged_count(m);
    for (size_t i = 0; i < total && n < max; i++) {
        const char *s = i < metrics_series_count(m)
                            ? metrics_series_at(m, i)->scenario
                            : metrics_tagged_at(m, i - metrics_series_count(m))->scenario;
        bool seen = s == NULL;
        for (size_t k = 0; k < n && !seen; k++)
            seen = strcmp(names[k], s) == 0;
        if (!seen)
            names[n++] = s;
    }
    return n;
}

/* Parses spec into t and, when names is not NULL, checks that it names only those n scenarios. */
static int check_one(const char *spec, struct threshold *t, const char **names, size_t n_names,
                     char *reason, size_t n)
{
    if (threshold_parse(spec, t, reason, n) != 0)
        return -1;
    if (names == NULL)
        return 0;
    return threshold_check_scenarios(t, names, n_names, reason, n) != 0 ? -1 : 0;
}

int outputs_thresholds_eval(const char *prog, const char *const *origins, const char *const *specs,
                            size_t n, size_t check_from, const struct metrics *m,
                            struct threshold_result **results, char *err, size_t errlen)
{
    struct threshold t;
    char reason[512];
    const char *names[METRICS_MAX_SERIES];
    size_t n_names = scenarios_of(m, names, METRICS_MAX_SERIES); /* once, not per spec */
    *results = NULL;
    if (n == 0)
        return 0;
    *results = calloc(n, sizeof **results);
    if (*results == NULL) {
        snprintf(err, errlen, "%s: out of memory evaluating thresholds", prog);
        return EXIT_STATUS_FAILED;
    }
    for (size_t i = 0; i < n; i++) {
        if (check_one(specs[i], &t, i >= check_from ? names : NULL, n_names, reason,
                      sizeof reason) != 0) {
            snprintf(err, errlen, "%s: %s: %s", prog, origins[i], reason);
            free(*results);
            *results = NULL;
            return EXIT_STATUS_USAGE;
        }
        if (threshold_evaluate(&t, m, &(*results)[i]) != 0) {
            snprintf(err, errlen, "%s: out of memory evaluating %s", prog, specs[i]);
            free(*results);
            *results = NULL;
            return EXIT_STATUS_FAILED;
        }
    }
    return 0;
}

size_t outputs_thresholds_failed(const struct threshold_result *results, size_t n)
{
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += results[i].ok ? 0 : 1;
    return failed;
}

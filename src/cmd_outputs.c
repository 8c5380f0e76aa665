/* src/cmd_outputs.c - shared by `fleetsim merge` and `fleetsim report` (see cmd_outputs.h):
 * their command line (files and a handful of long options in engine/cmdline's table, values
 * checked with engine/parse.h) and threshold evaluation. */
#include "src/cmd_outputs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/cmdline.h"
#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/parse.h"

static int push(const char ***arr, size_t *n, const char *s)
{
    const char **grown = realloc(*arr, (*n + 1) * sizeof *grown);
    if (grown == NULL)
        return -1;
    grown[(*n)++] = s;
    *arr = grown;
    return 0;
}

/* --summary-json, --html (outputs) and --interval-log (an input). */
static int opt_path(void *ctx, int id, char *value, char *reason, size_t n)
{
    struct outputs_args *a = ctx;
    const char **slot = id == OUTPUTS_OPT_SUMMARY_JSON ? &a->summary_json
                        : id == OUTPUTS_OPT_HTML       ? &a->html
                                                       : &a->interval_log;
    int rc = id == OUTPUTS_OPT_INTERVAL_LOG ? parse_readable_file(value, reason, n)
                                            : parse_writable_path(value, reason, n);
    if (rc != 0)
        return CMDLINE_BAD;
    if (out_file_is_stdout(value) && id != OUTPUTS_OPT_INTERVAL_LOG &&
        (out_file_is_stdout(a->summary_json) || out_file_is_stdout(a->html))) {
        snprintf(reason, n,
                 "is standard output, already taken by another output (expected one output on "
                 "standard output, the others in files)");
        return CMDLINE_BAD;
    }
    *slot = value;
    return CMDLINE_OK;
}

static int opt_threshold(void *ctx, int id, char *value, char *reason, size_t n)
{
    struct outputs_args *a = ctx;
    (void)id;
    if (*value == '\0') {
        snprintf(reason, n,
                 "is empty (expected METRIC[{tag:value,...}]:EXPR, e.g. "
                 "http_req_failed:rate<0.001)");
        return CMDLINE_BAD;
    }
    if (push(&a->thresholds, &a->n_thresholds, value) != 0) {
        snprintf(reason, n, "could not be stored: out of memory (expected fewer thresholds)");
        return CMDLINE_BAD_HIDDEN;
    }
    return CMDLINE_OK;
}

static int opt_allow_partial(void *ctx, int id, char *value, char *reason, size_t n)
{
    struct outputs_args *a = ctx;
    (void)id;
    (void)value;
    (void)reason;
    (void)n;
    a->allow_partial = true;
    return CMDLINE_OK;
}

/* An input file. */
static int input_file(void *ctx, char *arg, char *reason, size_t n)
{
    struct outputs_args *a = ctx;
    if (push(&a->files, &a->n_files, arg) != 0) {
        snprintf(reason, n, "out of memory (expected fewer files)");
        return CMDLINE_BAD;
    }
    return CMDLINE_OK;
}

/* Every option of the two commands, in --help order; ids are enum outputs_opt's values, so a
 * command's table is the entries its allowed mask names. */
static const struct cmdline_opt all_opts[] = {
    {"summary-json", OUTPUTS_OPT_SUMMARY_JSON, true, false, 0, opt_path},
    {"html", OUTPUTS_OPT_HTML, true, false, 0, opt_path},
    {"interval-log", OUTPUTS_OPT_INTERVAL_LOG, true, false, 0, opt_path},
    {"threshold", OUTPUTS_OPT_THRESHOLD, true, true, 0, opt_threshold},
    {"allow-partial", OUTPUTS_OPT_ALLOW_PARTIAL, false, false, 0, opt_allow_partial},
};
#define N_ALL_OPTS (sizeof all_opts / sizeof all_opts[0])

int outputs_args_parse(int argc, char **argv, const char *prog, unsigned allowed,
                       struct outputs_args *a, char *err, size_t errlen)
{
    struct cmdline_opt opts[N_ALL_OPTS];
    size_t n = 0;
    for (size_t k = 0; k < N_ALL_OPTS; k++) {
        if (allowed & (unsigned)all_opts[k].id)
            opts[n++] = all_opts[k];
    }
    const struct cmdline_spec spec = {prog, opts, n, false, input_file};
    struct cmdline_result res;
    memset(a, 0, sizeof *a);
    int rc = cmdline_parse(&spec, argc, argv, a, &res, err, errlen);
    a->help = rc == 0 && res.action == CMDLINE_ACTION_HELP;
    return rc;
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

/* src/cmd_merge.c - `fleetsim merge`: reads the summary JSON of each shard, refuses inputs that
 * cannot be slices of one run (histogram configuration, seed, shard K/N), adds them exactly
 * (engine/metrics_merge), prints the text summary, evaluates the inputs' thresholds plus the
 * given ones on the whole, and writes the merged summary JSON and HTML report when asked. */
#include "src/cmd_merge.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/exit_status.h"
#include "engine/in_file.h"
#include "engine/report_html.h"
#include "engine/str_repeats.h"
#include "engine/summary_input.h"
#include "engine/report_text.h"
#include "src/cmd_outputs.h"

#define PROG "fleetsim merge"
#define ERR_LINE_MAX 1024

static const char usage_text[] =
    "Usage: fleetsim merge FILE.json... [--summary-json OUT] [--html OUT]\n"
    "                      [--threshold SPEC]... [--allow-partial]\n"
    "Add the summary JSON files of the shards of one run (--shard K/N, same --seed)\n"
    "exactly, print the text summary and judge the thresholds stored in the files,\n"
    "plus the given ones, on the whole fleet.\n"
    "\n"
    "  --summary-json OUT     write the merged summary as JSON (- for standard output,\n"
    "                         the text summary then goes to standard error)\n"
    "  --html OUT             write the merged HTML report\n"
    "  --threshold SPEC       one more pass/fail rule METRIC[{tag:value,...}]:EXPR;\n"
    "                         repeatable\n"
    "  --allow-partial        merge shards that were interrupted (SIGINT/SIGTERM) too;\n"
    "                         the result is then marked partial (refused without it)\n"
    "  -h, --help             print this help and exit\n"
    "\n"
    "Exit status: 0 every threshold passed, 99 a threshold failed, 98 a shard's fleetsim\n"
    "was saturated, 2 a usage error, files that are not shards of one run or an\n"
    "interrupted shard without --allow-partial, 1 an output could not be written.\n";

/* fleetsim.histogram of a summary, all zero when absent (report_json_load then says why). */
struct histo_config {
    int64_t lowest_us, highest_us, digits;
};

static int64_t int_at(json_object *o, const char *key)
{
    json_object *v;
    return o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)
               ? json_object_get_int64(v)
               : 0;
}

static struct histo_config histo_config(json_object *root)
{
    json_object *f = NULL, *h = NULL;
    json_object_object_get_ex(root, "fleetsim", &f);
    if (f)
        json_object_object_get_ex(f, "histogram", &h);
    return (struct histo_config){int_at(h, "lowest_us"), int_at(h, "highest_us"),
                                 int_at(h, "significant_digits")};
}

static bool same_config(const struct histo_config *a, const struct histo_config *b)
{
    return a->lowest_us == b->lowest_us && a->highest_us == b->highest_us && a->digits == b->digits;
}

static int refuse(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    int w = snprintf(err, errlen, PROG ": ");
    va_start(ap, fmt);
    if (w > 0 && (size_t)w < errlen)
        vsnprintf(err + w, errlen - (size_t)w, fmt, ap);
    va_end(ap);
    return EXIT_STATUS_USAGE;
}

void merge_inputs_free(struct merge_inputs *in)
{
    report_info_clear(&in->first);
    free(in->shards);
    for (size_t i = 0; i < in->n_thresholds; i++)
        free(in->thresholds[i]);
    free(in->thresholds);
    memset(in, 0, sizeof *in);
}

/* Append the specs of info (repeats are dropped once all files are read). Returns 0 or
 * -ENOMEM. */
static int collect_thresholds(struct merge_inputs *in, const struct report_info *info)
{
    char **grown =
        realloc(in->thresholds, (in->n_thresholds + info->n_thresholds + 1) * sizeof *grown);
    if (grown == NULL)
        return -ENOMEM;
    in->thresholds = grown;
    for (size_t i = 0; i < info->n_thresholds; i++) {
        if ((grown[in->n_thresholds] = strdup(info->threshold_exprs[i])) == NULL)
            return -ENOMEM;
        in->n_thresholds++;
    }
    return 0;
}

/* Check file i's metadata against the first file's. */
static int check_slice(const char *const *paths, size_t i, const struct merge_inputs *in,
                       const struct report_info *info, char *err, size_t errlen)
{
    const struct report_info *first = &in->first;
    if (info->seed != first->seed)
        return refuse(err, errlen,
                      "%s has seed %" PRIu64 " but %s has seed %" PRIu64
                      " (expected the shards of one run, all with the same --seed)",
                      paths[i], info->seed, paths[0], first->seed);
    if (info->shard_n != first->shard_n)
        return refuse(err, errlen,
                      "%s is shard %u/%u but %s is shard %u/%u: slices of different "
                      "shard counts overlap (expected every file from one --shard K/%u split)",
                      paths[i], info->shard_k, info->shard_n, paths[0], first->shard_k,
                      first->shard_n, first->shard_n);
    for (size_t k = 0; k < i; k++)
        if (in->shards[k] == info->shard_k)
            return refuse(err, errlen, "%s repeats shard %u/%u of %s (expected each shard once)",
                          paths[i], info->shard_k, info->shard_n, paths[k]);
    return 0;
}

/* How much a verdict weighs when shards disagree: the merged run takes the heaviest. */
static int verdict_weight(enum run_verdict v)
{
    switch (v) {
    case RUN_VERDICT_SETUP_ERROR:
        return 3;
    case RUN_VERDICT_CLIENT_SATURATED:
        return 2;
    case RUN_VERDICT_SERVER_SLOW:
        return 1;
    default:
        return 0;
    }
}

/* Notes file i's result (interrupted, aborted, its verdict) in in. */
static void note_result(struct merge_inputs *in, size_t i, const struct report_info *info)
{
    if (!info->has_result)
        return;
    const struct run_result *r = &info->result;
    if (r->status == RUN_STATUS_INTERRUPTED && in->n_interrupted++ == 0) {
        in->first_interrupted = i;
        in->first_interrupted_result = *r;
    }
    in->any_aborted |= r->status == RUN_STATUS_ABORTED;
    if (verdict_weight(r->verdict) > verdict_weight(in->worst_verdict))
        in->worst_verdict = r->verdict;
}

/* Load one file into a fresh registry, check it and add it to m. */
static int merge_one(const char *const *paths, size_t i, struct metrics *m, struct merge_inputs *in,
                     struct histo_config *config0, char *err, size_t errlen)
{
    char why[512];
    struct report_info info;
    json_object *root = summary_input_parse(paths[i], why, sizeof why);
    if (root == NULL)
        return refuse(err, errlen, "%s", why);
    struct histo_config config = histo_config(root);
    struct metrics *part = metrics_new(false);
    int rc = part ? 0 : refuse(err, errlen, "out of memory");
    if (rc == 0 && i > 0 && config.digits != 0 && !same_config(&config, config0))
        rc = refuse(err, errlen,
                    "%s: histogram configuration %" PRId64 "-%" PRId64 " us at %" PRId64
                    " digits differs from %s's %" PRId64 "-%" PRId64 " us at %" PRId64
                    " digits (expected histograms that add exactly)",
                    paths[i], config.lowest_us, config.highest_us, config.digits, paths[0],
                    config0->lowest_us, config0->highest_us, config0->digits);
    if (rc == 0 && report_json_load(root, part, &info, why, sizeof why) != 0)
        rc = refuse(err, errlen, "summary %s: %s", paths[i], why);
    json_object_put(root);
    if (rc == 0) {
        if (i == 0) {
            in->first = info;
            in->shard_n = info.shard_n;
            in->started_at = info.started_at;
            in->ended_at = info.ended_at;
            *config0 = config;
        } else {
            rc = check_slice(paths, i, in, &info, err, errlen);
            if (rc == 0 && strcmp(info.version, in->first.version) != 0)
                fprintf(stderr, PROG ": warning: %s was written by fleetsim %s, %s by %s\n",
                        paths[i], info.version, paths[0], in->first.version);
        }
        in->shards[i] = info.shard_k;
        note_result(in, i, &info);
        in->started_at = info.started_at < in->started_at ? info.started_at : in->started_at;
        in->ended_at = info.ended_at > in->ended_at ? info.ended_at : in->ended_at;
        if (rc == 0 && collect_thresholds(in, &info) != 0)
            rc = refuse(err, errlen, "out of memory");
        if (i > 0)
            report_info_clear(&info);
    }
    int mrc = rc == 0 ? metrics_merge(m, part) : 0;
    if (mrc != 0)
        rc = refuse(err, errlen, "cannot add %s: %s", paths[i],
                    mrc == -ENOSPC      ? "more request series than one registry holds"
                    : mrc == -EOVERFLOW ? "its counters added to the others' pass 2^64"
                                        : strerror(-mrc));
    metrics_free(part);
    return rc;
}

int merge_read(const char *const *paths, size_t n, struct metrics *m, struct merge_inputs *in,
               char *err, size_t errlen)
{
    struct histo_config config0 = {0, 0, 0};
    memset(in, 0, sizeof *in);
    if (n == 0)
        return refuse(err, errlen,
                      "no summary files given (expected FILE.json..., see " PROG " --help)");
    in->shards = calloc(n, sizeof *in->shards);
    if (in->shards == NULL)
        return refuse(err, errlen, "out of memory");
    for (size_t i = 0; i < n; i++) {
        int rc = merge_one(paths, i, m, in, &config0, err, errlen);
        in->n_files = i + 1;
        if (rc != 0)
            return rc;
    }
    size_t kept = str_drop_repeats(in->thresholds, in->n_thresholds, free);
    if (kept == (size_t)-1)
        return refuse(err, errlen, "out of memory");
    in->n_thresholds = kept;
    return 0;
}

/* Shards of N not among the inputs, written as "2, 3" into buf; returns how many. */
static size_t missing_shards(const struct merge_inputs *in, char *buf, size_t n)
{
    size_t missing = 0, used = 0;
    buf[0] = '\0';
    for (uint32_t k = 0; k < in->shard_n; k++) {
        bool have = false;
        for (size_t i = 0; i < in->n_files && !have; i++)
            have = in->shards[i] == k;
        if (have)
            continue;
        if (missing++ < 16 && used < n) {
            int w = snprintf(buf + used, n - used, "%s%u", used ? ", " : "", k);
            used += w > 0 ? (size_t)w : 0;
        }
    }
    if (missing > 16 && used < n)
        snprintf(buf + used, n - used, ", ...");
    return missing;
}

/* The merged run's config: the first file's, plus what was merged. Caller owns it. */
static json_object *merged_config(const struct merge_inputs *in, const char *const *paths,
                                  bool complete)
{
    json_object *config = NULL, *merge = json_object_new_object();
    json_object *files = json_object_new_array(), *shards = json_object_new_array();
    if (in->first.config == NULL || json_object_deep_copy(in->first.config, &config, NULL) != 0)
        config = json_object_new_object();
    if (config == NULL || merge == NULL || files == NULL || shards == NULL) {
        json_object_put(config);
        json_object_put(merge);
        json_object_put(files);
        json_object_put(shards);
        return NULL;
    }
    for (size_t i = 0; i < in->n_files; i++) {
        json_object_array_add(files, json_object_new_string(paths[i]));
        json_object_array_add(shards, json_object_new_int64(in->shards[i]));
    }
    json_object_object_add(merge, "files", files);
    json_object_object_add(merge, "shards", shards);
    json_object_object_add(merge, "shard_n", json_object_new_int64(in->shard_n));
    json_object_object_add(merge, "complete", json_object_new_boolean(complete));
    json_object_object_add(merge, "partial", json_object_new_boolean(in->n_interrupted > 0));
    json_object_object_add(config, "merge", merge);
    return config;
}

/* The header line of the text summary: which shards were merged. */
static void print_header(FILE *out, const struct merge_inputs *in)
{
    fprintf(out, PROG ": %zu file%s, shard%s ", in->n_files, in->n_files == 1 ? "" : "s",
            in->n_files == 1 ? "" : "s");
    for (size_t i = 0; i < in->n_files; i++)
        fprintf(out, "%s%u", i ? "," : "", in->shards[i]);
    fprintf(out, " of %u, seed %" PRIu64 "\n\n", in->shard_n, in->first.seed);
}

/* The specs to judge: the inputs' (deduplicated), then the given ones not among them
 * (repeats found in n log n). origins[i] says where spec i came from. Returns 0 or
 * EXIT_STATUS_FAILED. */
static int gather_specs(const struct merge_inputs *in, const struct outputs_args *a,
                        const char ***specs, const char ***origins, size_t *n)
{
    size_t all = in->n_thresholds + a->n_thresholds;
    bool *repeat = calloc(all ? all : 1, sizeof *repeat);
    *n = 0;
    *specs = calloc(all ? all : 1, sizeof **specs);
    *origins = calloc(all ? all : 1, sizeof **origins);
    if (*specs == NULL || *origins == NULL || repeat == NULL) {
        free(repeat);
        return EXIT_STATUS_FAILED;
    }
    for (size_t i = 0; i < all; i++) {
        bool stored = i < in->n_thresholds;
        (*specs)[i] = stored ? in->thresholds[i] : a->thresholds[i - in->n_thresholds];
        (*origins)[i] = stored ? "a threshold stored in the inputs" : "--threshold";
    }
    int rc = str_mark_repeats(*specs, all, repeat) == 0 ? 0 : EXIT_STATUS_FAILED;
    for (size_t i = 0; rc == 0 && i < all; i++) {
        if (repeat[i])
            continue;
        (*specs)[*n] = (*specs)[i];
        (*origins)[(*n)++] = (*origins)[i];
    }
    free(repeat);
    return rc;
}

/* Print the summary, write the outputs and return the exit code. */
static int finish(const struct outputs_args *a, const struct metrics *m,
                  const struct merge_inputs *in, const struct threshold_result *res, size_t n_res)
{
    char err[ERR_LINE_MAX], missing[128], line[512];
    size_t n_missing = missing_shards(in, missing, sizeof missing);
    bool complete = n_missing == 0;
    struct run_result result = {.verdict = in->worst_verdict, .partial = in->n_interrupted > 0};
    snprintf(result.verdict_why, sizeof result.verdict_why, "the heaviest of the %zu inputs'",
             in->n_files);
    result.status =
        run_result_decide(&result, outputs_thresholds_failed(res, n_res), in->any_aborted);
    struct report_text_opts opts = {
        .thresholds = res, .n_thresholds = n_res, .known_in_flight = -1, .result = &result};
    if (!complete)
        fprintf(stderr,
                PROG ": warning: %zu of %u shards missing (%s): the result covers part "
                     "of the fleet only\n",
                n_missing, in->shard_n, missing);
    print_header(outputs_text_stream(a), in);
    report_text_write(outputs_text_stream(a), m, &opts);
    fprintf(outputs_text_stream(a), "%s\n", run_result_line(&result, line, sizeof line));
    struct report_meta meta = {PACKAGE_VERSION,
                               in->first.seed,
                               0,
                               1,
                               in->started_at,
                               in->ended_at,
                               merged_config(in, a->files, complete),
                               &result};
    int rc = 0;
    if (meta.config == NULL) {
        fprintf(stderr, PROG ": out of memory\n");
        return EXIT_STATUS_FAILED;
    }
    if (a->summary_json &&
        report_json_write(a->summary_json, &meta, m, res, n_res, err, sizeof err) != 0) {
        fprintf(stderr, PROG ": %s\n", err);
        rc = EXIT_STATUS_FAILED;
    }
    if (a->html) {
        json_object *summary = report_json_build(&meta, m, res, n_res);
        if (summary == NULL ||
            report_html_write_summary(summary, NULL, a->html, err, sizeof err) != 0) {
            fprintf(stderr, PROG ": %s\n", summary ? err : "out of memory building the summary");
            rc = EXIT_STATUS_FAILED;
        }
        json_object_put(summary);
    }
    json_object_put(meta.config);
    return rc != 0 ? rc : run_result_exit_code(&result);
}

/* An interrupted shard without --allow-partial: refused, naming it and where it stopped. */
static int refuse_interrupted(const struct outputs_args *a, const struct merge_inputs *in,
                              char *err, size_t errlen)
{
    char line[512];
    return refuse(err, errlen,
                  "%s was interrupted (%s): its figures cover part of the run only; %zu of %zu "
                  "inputs were (merge them anyway with --allow-partial, the result is then "
                  "marked partial)",
                  a->files[in->first_interrupted],
                  run_result_line(&in->first_interrupted_result, line, sizeof line),
                  in->n_interrupted, in->n_files);
}

int cmd_merge_main(int argc, char **argv)
{
    char err[ERR_LINE_MAX] = "";
    struct outputs_args a;
    struct merge_inputs in = {0};
    struct metrics *m = NULL;
    struct threshold_result *res = NULL;
    const char **specs = NULL, **origins = NULL;
    size_t n_specs = 0;
    int rc = outputs_args_parse(argc, argv, PROG,
                                OUTPUTS_OPT_SUMMARY_JSON | OUTPUTS_OPT_HTML |
                                    OUTPUTS_OPT_THRESHOLD | OUTPUTS_OPT_ALLOW_PARTIAL,
                                &a, err, sizeof err);
    if (rc == 0 && a.help) {
        fputs(usage_text, stdout);
        outputs_args_free(&a);
        return EXIT_STATUS_OK;
    }
    if (rc == 0 && (m = metrics_new(false)) == NULL)
        rc = refuse(err, sizeof err, "out of memory");
    if (rc == 0)
        rc = merge_read(a.files, a.n_files, m, &in, err, sizeof err);
    if (rc == 0 && in.n_interrupted > 0 && !a.allow_partial)
        rc = refuse_interrupted(&a, &in, err, sizeof err);
    else if (rc == 0 && in.n_interrupted > 0)
        fprintf(stderr,
                PROG ": warning: %zu interrupted shard%s merged (--allow-partial): the result is "
                     "partial\n",
                in.n_interrupted, in.n_interrupted == 1 ? "" : "s");
    if (rc == 0 && gather_specs(&in, &a, &specs, &origins, &n_specs) != 0) {
        rc = EXIT_STATUS_FAILED;
        snprintf(err, sizeof err, PROG ": out of memory");
    }
    if (rc == 0)
        rc = outputs_thresholds_eval(PROG, origins, specs, n_specs, in.n_thresholds, m, &res, err,
                                     sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", in_file_escape_controls(err, sizeof err));
    else
        rc = finish(&a, m, &in, res, n_specs);
    free(res);
    free(specs);
    free(origins);
    merge_inputs_free(&in);
    metrics_free(m);
    outputs_args_free(&a);
    return rc;
}

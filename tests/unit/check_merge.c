/* tests/unit/check_merge.c - `fleetsim merge`: shard summaries whose merge equals the summary
 * recorded from all values, bucket for bucket (via merge_read and via the command's own
 * --summary-json); thresholds judged on the whole (one that fails on every shard alone passes
 * merged, exit 0/99); refusals with one line and exit 2 (other seed, repeated shard, other shard
 * count, other histogram configuration, not a summary); and the real binary when built. */
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/report_json.h"
#include "sim/names.h"
#include "src/cmd_merge.h"
#include "tests/lib/procs.h"
#include "tests/lib/testenv.h"
#include "tests/unit/outputs_fixture.h"

#define N_REQUESTS 20000
#define SEED 42
#define ELAPSED_S 300.0

static char dir[64], path_a[128], path_b[128], path_c[128], path_all[128], path_out[160];

/* The whole run and its two shards as summary files, each shard with a stored threshold that
 * only the whole passes: http_reqs:count >= completed requests of the whole. */
static char whole_count_spec[96];
static uint64_t whole_completed;

static uint64_t completed_total(const struct metrics *m)
{
    uint64_t n = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++)
        n += metrics_outcomes_completed(&metrics_series_at(m, i)->total);
    return n;
}

static void setup(void)
{
    testenv_mkdtemp(dir, sizeof dir, "check_merge");
    snprintf(path_a, sizeof path_a, "%s/a.json", dir);
    snprintf(path_b, sizeof path_b, "%s/b.json", dir);
    snprintf(path_c, sizeof path_c, "%s/c.json", dir);
    snprintf(path_all, sizeof path_all, "%s/all.json", dir);
    snprintf(path_out, sizeof path_out, "%s/merged.json", dir);
    struct metrics *all = fx_registry(N_REQUESTS, -1, 1, ELAPSED_S);
    struct metrics *a = fx_registry(N_REQUESTS, 0, 2, ELAPSED_S);
    struct metrics *b = fx_registry(N_REQUESTS, 1, 2, ELAPSED_S - 1);
    ck_assert(all && a && b);
    whole_completed = completed_total(all);
    snprintf(whole_count_spec, sizeof whole_count_spec, "http_reqs:count>=%llu",
             (unsigned long long)whole_completed);
    const char *specs[] = {whole_count_spec, "http_req_failed:rate<0.2"};
    ck_assert_int_eq(fx_write_summary(path_all, all, SEED, 0, 1, NULL, 0), 0);
    ck_assert_int_eq(fx_write_summary(path_a, a, SEED, 0, 2, specs, 2), 0);
    ck_assert_int_eq(fx_write_summary(path_b, b, SEED, 1, 2, specs, 2), 0);
    metrics_free(all);
    metrics_free(a);
    metrics_free(b);
}

static void teardown(void)
{
    testenv_rmtree(dir);
}

static struct metrics *read_file(const char *path)
{
    char err[512];
    struct metrics *m = metrics_new(false);
    ck_assert_ptr_nonnull(m);
    ck_assert_msg(report_json_read(path, m, NULL, err, sizeof err) == 0, "%s", err);
    return m;
}

/* Bucket for bucket, series by series: what metrics_equal checks, spelled out for duration. */
static void assert_same_buckets(const struct metrics *x, const struct metrics *y)
{
    ck_assert_uint_eq(metrics_series_count(x), metrics_series_count(y));
    for (size_t i = 0; i < metrics_series_count(x); i++) {
        const struct metrics_series *s = metrics_series_at(x, i);
        const struct metrics_series *t = metrics_series_find(y, s->scenario, s->actor, s->endpoint);
        ck_assert_ptr_nonnull(t);
        struct hist_iter ia = HIST_ITER_INIT, ib = HIST_ITER_INIT;
        struct hist_bucket ba, bb;
        size_t n = 0;
        while (hist_iter_next(&s->duration, &ia, &ba)) {
            ck_assert(hist_iter_next(&t->duration, &ib, &bb));
            ck_assert_uint_eq(ba.lowest_us, bb.lowest_us);
            ck_assert_uint_eq(ba.count, bb.count);
            n++;
        }
        ck_assert(!hist_iter_next(&t->duration, &ib, &bb));
        ck_assert_uint_gt(n, 100); /* the fixture spreads over many buckets */
        ck_assert_uint_eq(hist_value_at_percentile(&s->duration, 99.9),
                          hist_value_at_percentile(&t->duration, 99.9));
    }
    ck_assert(metrics_equal(x, y));
}

START_TEST(merge_equals_whole)
{
    const char *paths[] = {path_a, path_b};
    struct merge_inputs in;
    char err[1024];
    struct metrics *m = metrics_new(false);
    ck_assert_int_eq(merge_read(paths, 2, m, &in, err, sizeof err), 0);
    struct metrics *all = read_file(path_all);
    assert_same_buckets(m, all);
    /* the shards alone differ from the whole: the comparison can fail */
    struct metrics *a = read_file(path_a);
    ck_assert(!metrics_equal(a, all));
    /* one value more anywhere is a mismatch */
    fx_answered(metrics_series(m, FX_SCENARIO, "agent", "heartbeat"), 1234, 1, 200, false);
    ck_assert(!metrics_equal(m, all));
    ck_assert_uint_eq(metrics_elapsed_ns(m), (uint64_t)(ELAPSED_S * 1e9)); /* the longer */
    ck_assert_uint_eq(in.n_files, 2);
    ck_assert_uint_eq(in.shard_n, 2);
    ck_assert_uint_eq(in.first.seed, SEED);
    ck_assert_uint_eq(in.n_thresholds, 2); /* the same specs in both files, kept once */
    ck_assert_int_eq(in.started_at, 1795000000);
    ck_assert_int_eq(in.ended_at, 1795000301);
    merge_inputs_free(&in);
    metrics_free(a);
    metrics_free(all);
    metrics_free(m);
}
END_TEST

/* Runs cmd_merge_main with stdout sent to a file; returns its exit code. */
static int run_merge(const char *const *args, char *out, size_t outlen)
{
    char *argv[16];
    int argc = 0;
    char capture[160];
    snprintf(capture, sizeof capture, "%s/stdout.txt", dir);
    argv[argc++] = (char *)"merge";
    for (size_t i = 0; args[i] != NULL; i++)
        argv[argc++] = (char *)args[i];
    argv[argc] = NULL;
    fflush(stdout);
    int saved = dup(1), fd = open(capture, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = cmd_merge_main(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(capture, "r");
    size_t len = f ? fread(out, 1, outlen - 1, f) : 0;
    out[len] = '\0';
    if (f)
        fclose(f);
    return rc;
}

START_TEST(command_writes_exact_summary)
{
    static char out[65536];
    const char *args[] = {path_a, "--summary-json", path_out, path_b, NULL};
    ck_assert_int_eq(run_merge(args, out, sizeof out), 0);
    ck_assert_msg(strstr(out, "fleetsim merge: 2 files, shards 0,1 of 2, seed 42\n") == out, "%s",
                  out);
    ck_assert(strstr(out, "accounting: scheduled") != NULL);
    ck_assert(strstr(out, "thresholds: all 2 passed") != NULL);
    struct metrics *merged = read_file(path_out), *all = read_file(path_all);
    assert_same_buckets(merged, all);
    struct report_info info;
    char err[512];
    struct metrics *tmp = metrics_new(false);
    ck_assert_int_eq(report_json_read(path_out, tmp, &info, err, sizeof err), 0);
    ck_assert_uint_eq(info.seed, SEED);
    ck_assert_uint_eq(info.shard_n, 1);
    ck_assert_uint_eq(info.n_thresholds, 2);
    json_object *merge = NULL, *v = NULL;
    ck_assert(json_object_object_get_ex(info.config, "merge", &merge));
    ck_assert(json_object_object_get_ex(merge, "complete", &v) && json_object_get_boolean(v));
    ck_assert(json_object_object_get_ex(info.config, "agents", &v));
    report_info_clear(&info);
    metrics_free(tmp);
    metrics_free(merged);
    metrics_free(all);
}
END_TEST

START_TEST(thresholds_on_the_whole)
{
    static char out[65536];
    /* each shard alone fails the stored count threshold, as written in its file */
    struct report_info info;
    char err[512], spec[96];
    struct metrics *a = metrics_new(false);
    ck_assert_int_eq(report_json_read(path_a, a, &info, err, sizeof err), 0);
    report_info_clear(&info);
    json_object *root = json_object_from_file(path_a), *th = NULL, *ok = NULL;
    ck_assert(json_object_object_get_ex(root, "thresholds", &th));
    ck_assert(json_object_object_get_ex(json_object_array_get_idx(th, 0), "ok", &ok));
    ck_assert(!json_object_get_boolean(ok));
    json_object_put(root);
    metrics_free(a);
    /* merged it passes: exit 0 (above); one more given threshold that fails: exit 99 */
    snprintf(spec, sizeof spec, "http_reqs:count<%llu", (unsigned long long)whole_completed);
    const char *args[] = {path_a, path_b, "--threshold", spec, NULL};
    ck_assert_int_eq(run_merge(args, out, sizeof out), 99);
    ck_assert(strstr(out, "thresholds: 1 of 3 FAILED") != NULL);
    /* a given threshold that does not parse, or names a scenario not in the data: exit 2 */
    const char *bad[] = {path_a, path_b, "--threshold", "http_req_duration:p(99)<<1", NULL};
    ck_assert_int_eq(run_merge(bad, out, sizeof out), 2);
    const char *absent[] = {path_a, path_b, "--threshold",
                            "http_req_duration{scenario:nosuch}:p(99)<1", NULL};
    ck_assert_int_eq(run_merge(absent, out, sizeof out), 2);
}
END_TEST

/* merge_read must refuse with exit 2 and one line containing want. */
static void refused(const char *const *paths, size_t n, const char *want)
{
    struct merge_inputs in;
    char err[1024];
    struct metrics *m = metrics_new(false);
    ck_assert_int_eq(merge_read(paths, n, m, &in, err, sizeof err), 2);
    ck_assert_msg(strstr(err, want) != NULL, "got: %s\nwant: %s", err, want);
    ck_assert(strncmp(err, "fleetsim merge: ", 16) == 0);
    ck_assert(strchr(err, '\n') == NULL);
    merge_inputs_free(&in);
    metrics_free(m);
}

/* Rewrite path_c as a copy of src with one JSON edit at fleetsim.{key}[.sub] = value. */
static void copy_edited(const char *src, const char *key, const char *sub, int64_t value)
{
    json_object *root = json_object_from_file(src), *f = NULL, *o = NULL;
    ck_assert(json_object_object_get_ex(root, "fleetsim", &f));
    if (sub == NULL) {
        json_object_object_add(f, key, json_object_new_int64(value));
    } else {
        ck_assert(json_object_object_get_ex(f, key, &o));
        json_object_object_add(o, sub, json_object_new_int64(value));
    }
    ck_assert_int_eq(json_object_to_file(path_c, root), 0);
    json_object_put(root);
}

START_TEST(refusals)
{
    const char *dup[] = {path_a, path_b, path_a};
    refused(dup, 3, "repeats shard 0/2 of ");
    copy_edited(path_b, "seed", NULL, SEED + 1);
    const char *seed[] = {path_a, path_c};
    refused(seed, 2, "has seed 43 but");
    copy_edited(path_b, "shard", "n", 3);
    const char *other_n[] = {path_a, path_c};
    refused(other_n, 2, "is shard 1/3 but");
    refused(other_n, 2, "overlap");
    copy_edited(path_b, "histogram", "significant_digits", 2);
    const char *config[] = {path_a, path_c};
    refused(config, 2, "histogram configuration 1-3600000000 us at 2 digits differs from");
    const char *missing[] = {path_a, "/nonexistent/x.json"};
    refused(missing, 2, "/nonexistent/x.json cannot be read: No such file or directory");
    FILE *f = fopen(path_c, "w");
    fputs("{\"fleetsim\": {}}", f);
    fclose(f);
    const char *notsummary[] = {path_a, path_c};
    refused(notsummary, 2, "summary ");
    refused(NULL, 0, "no summary files given");
}
END_TEST

START_TEST(missing_shard_warns)
{
    static char out[65536];
    copy_edited(path_b, "shard", "n", 3); /* c.json: shard 1/3 */
    const char *one[] = {path_c, "--summary-json", path_out, NULL};
    /* 1 of 3: merged with a warning, thresholds judged on what is there */
    int rc = run_merge(one, out, sizeof out);
    ck_assert_int_eq(rc, 99); /* the whole-count threshold fails on a part */
    ck_assert(strstr(out, "shard 1 of 3") != NULL);
    struct report_info info;
    char err[512];
    struct metrics *m = metrics_new(false);
    ck_assert_int_eq(report_json_read(path_out, m, &info, err, sizeof err), 0);
    json_object *merge = NULL, *v = NULL;
    ck_assert(json_object_object_get_ex(info.config, "merge", &merge));
    ck_assert(json_object_object_get_ex(merge, "complete", &v) && !json_object_get_boolean(v));
    report_info_clear(&info);
    metrics_free(m);
}
END_TEST

/* ---- the real binary ---- */

/* Runs $top_builddir/fleetsim with args; false when it is not built. */
static bool exec_fleetsim(const char *const *args, struct procs_output *r)
{
    return procs_exec("fleetsim", args, 30000, r);
}

START_TEST(binary_merge_and_report)
{
    static struct procs_output r;
    char html[160], html2[160];
    snprintf(html, sizeof html, "%s/merged.html", dir);
    snprintf(html2, sizeof html2, "%s/report.html", dir);
    const char *args[] = {"merge",  path_a,   path_b, "--summary-json",
                          path_out, "--html", html,   NULL};
    if (!exec_fleetsim(args, &r)) {
        printf("SKIP binary_merge_and_report: $top_builddir/fleetsim is not built\n");
        return;
    }
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.errb);
    ck_assert(strstr(r.out, "fleetsim merge: 2 files, shards 0,1 of 2, seed 42") != NULL);
    ck_assert(strstr(r.out, "thresholds: all 2 passed") != NULL);
    struct metrics *merged = read_file(path_out), *all = read_file(path_all);
    assert_same_buckets(merged, all);
    metrics_free(merged);
    metrics_free(all);
    ck_assert_int_eq(access(html, R_OK), 0);
    /* refused: one line on stderr, nothing on stdout, exit 2 */
    const char *dup[] = {"merge", path_a, path_a, NULL};
    ck_assert(exec_fleetsim(dup, &r));
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.out, "");
    ck_assert(strncmp(r.errb, "fleetsim merge: ", 16) == 0);
    ck_assert(strchr(r.errb, '\n') == r.errb + strlen(r.errb) - 1);
    /* report renders the merged file; unknown options are usage errors */
    const char *rep[] = {"report", path_out, "--html", html2, NULL};
    ck_assert(exec_fleetsim(rep, &r));
    ck_assert_msg(r.status == 0, "exit %d: %s", r.status, r.errb);
    ck_assert(strstr(r.out, "fleetsim report: ") == r.out);
    ck_assert(strstr(r.out, "accounting: scheduled") != NULL);
    ck_assert_int_eq(access(html2, R_OK), 0);
    const char *bogus[] = {"report", path_out, "--htm", html2, NULL};
    ck_assert(exec_fleetsim(bogus, &r));
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.errb, "fleetsim report: unknown option \"--htm\" (did you mean --html? "
                             "see fleetsim report --help)\n");
    /* merge's own options are suggested too, and -h is its --help */
    const char *typo[] = {"merge", path_a, "--treshold", "x", NULL};
    ck_assert(exec_fleetsim(typo, &r));
    ck_assert_int_eq(r.status, 2);
    ck_assert_str_eq(r.errb, "fleetsim merge: unknown option \"--treshold\" (did you mean "
                             "--threshold? see fleetsim merge --help)\n");
    const char *help[] = {"merge", "-h", NULL};
    ck_assert(exec_fleetsim(help, &r));
    ck_assert_int_eq(r.status, 0);
    ck_assert(strncmp(r.out, "Usage: fleetsim merge ", 22) == 0);
}
END_TEST

static Suite *merge_suite(void)
{
    Suite *s = suite_create("merge");
    TCase *tc = testenv_tcase(s, "merge", 0);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, merge_equals_whole);
    tcase_add_test(tc, command_writes_exact_summary);
    tcase_add_test(tc, thresholds_on_the_whole);
    tcase_add_test(tc, refusals);
    tcase_add_test(tc, missing_shard_warns);
    tcase_add_test(tc, binary_merge_and_report);
    return s;
}

int main(void)
{
    sim_names_register(NULL);
    return testenv_run(merge_suite());
}

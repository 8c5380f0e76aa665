/* src/run_report.c - the end of a run: merges every actor's metrics exactly (src/actor.h),
 * evaluates thresholds, prints the text summary with each actor's lines and the hints a user
 * needs (429 waves), writes --summary-json and --html, closes --interval-log and picks the
 * exit code (1 when an output was lost). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/clock.h"
#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/report.h"
#include "engine/report_html.h"
#include "src/run_internal.h"

#define ERR_MAX 512

/* How much CPU the busiest loop thread used (core) and wanted (demand: running or queued), 0..1. */
struct cpu_use {
    double core, demand;
};

void run_count_429(const struct metrics *m, uint64_t *n429, uint64_t *answered)
{
    *n429 = *answered = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        *n429 += s->total.status[429 - METRICS_STATUS_LOWEST];
        *answered += s->total.answered;
    }
}

void run_print_429_hint(uint64_t n429, uint64_t answered, bool refserver)
{
    const char *knob =
        refserver ? "the server is fleetsim-target (its /api/v1/version says so), whose limiter "
                    "counts per client IP (--rate-limit, 50/s and burst 100 by default): start it "
                    "with --rate-limit off or a higher N/s"
                  : "certctl's rate limiter counts per client IP (50 req/s, burst 100 by "
                    "default), so one fleetsim address shares one bucket: disable it "
                    "(CERTCTL_RATE_LIMIT_ENABLED=false), raise it";
    fprintf(stderr,
            "fleetsim: hint: %.1f %% of answers were 429 Too Many Requests (%" PRIu64 " of %" PRIu64
            "). %s, or spread the fleet over addresses with --source-ips (e.g. "
            "127.0.0.2-127.0.0.254 on loopback)\n",
            100.0 * (double)n429 / (double)answered, n429, answered, knob);
}

/* A run without agents (or whose actors never ran) still says its seed after the engine's
 * summary; otherwise the fleet's lines do. */
static void print_seed_line(FILE *out, const struct run_ctx *c)
{
    if (run_shard_agents(c) == 0 || c->n_actors == 0)
        fprintf(out, "\nseed %" PRIu64 "%s\n", c->cfg.seed,
                c->result.phase != RUN_PHASE_NONE ? " (interrupted)" : "");
}

/* Evaluates every threshold; returns how many failed. */
static size_t evaluate(const struct run_ctx *c, const struct metrics *m,
                       struct threshold_result *res)
{
    size_t failed = 0;
    for (size_t i = 0; i < c->n_thresholds; i++) {
        threshold_evaluate(&c->thresholds[i], m, &res[i]);
        failed += res[i].ok ? 0 : 1;
    }
    return failed;
}

/* The verdict of the run (docs/metrics.md, "The verdict"): client_saturated when fleetsim's own
 * lag (from when an agent was free to send) p99 was over --saturation-lag while a loop thread
 * wanted a CPU --saturation-cpu of its time; server_slow when agents waited on the server
 * (waits before sending over the same limit, unserved ticks, timeouts, unanswered requests);
 * else kept_up. */
static void judge(struct run_result *r, const struct run_config *cfg, const struct metrics *m,
                  const struct cpu_use *cpu, int64_t in_flight)
{
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    r->loop_ran = cpu->core;
    r->loop_wanted = cpu->demand;
    uint64_t limit_us = cfg->saturation_lag_ns / CLOCK_NS_PER_US;
    uint64_t lag_p99 = report_merged_p99(m, METRIC_HTTP_REQ_LAG);
    uint64_t wait_p99 = report_merged_p99(m, METRIC_HTTP_REQ_WAIT);
    uint64_t unanswered = a.unanswered + (uint64_t)(in_flight > 0 ? in_flight : 0);
    char lag[24], wait[24], lim[24];
    report_format_ms(lag, sizeof lag, lag_p99);
    report_format_ms(wait, sizeof wait, wait_p99);
    report_format_ms(lim, sizeof lim, limit_us);
    bool lagged = lag_p99 > limit_us;
    if (lagged && 100.0 * cpu->demand >= cfg->saturation_cpu_pct) {
        r->verdict = RUN_VERDICT_CLIENT_SATURATED;
        snprintf(r->verdict_why, sizeof r->verdict_why,
                 "fleetsim's own lag p99 %s ms > %s ms while a loop thread wanted a CPU %.0f %% "
                 "of its time (ran %.0f %%): use more --threads, or --shard the fleet over "
                 "processes or hosts",
                 lag, lim, 100.0 * cpu->demand, 100.0 * cpu->core);
    } else if (wait_p99 > limit_us || a.dropped || a.timed_out || unanswered) {
        r->verdict = RUN_VERDICT_SERVER_SLOW;
        snprintf(r->verdict_why, sizeof r->verdict_why,
                 "wait p99 %s ms; %" PRIu64 " ticks unserved behind unanswered requests, %" PRIu64
                 " timed out, %" PRIu64 " unanswered at the end; fleetsim's own lag p99 %s ms",
                 wait, a.dropped, a.timed_out, unanswered, lag);
    } else {
        r->verdict = RUN_VERDICT_KEPT_UP;
        snprintf(r->verdict_why, sizeof r->verdict_why, "fleetsim's own lag p99 %s ms%s", lag,
                 lagged ? ", over the limit, but no loop thread was short of CPU for long" : "");
    }
}

void run_output_lost(struct run_ctx *c, const char *option, const char *path, int rc,
                     const char *note)
{
    fprintf(stderr, "fleetsim: %s %s: %s (%s; the run exits 1)\n", option, out_file_name(path),
            strerror(-rc), note);
    c->output_lost = true;
}

/* Closes --interval-log before the HTML report reads it back; a failure is reported. */
static void close_interval_log(struct run_ctx *c)
{
    int rc = out_stream_close(c->interval_log);
    c->interval_log = NULL;
    if (rc != 0)
        run_output_lost(c, "--interval-log", c->cfg.interval_log_path, rc,
                        "the file may miss its last lines");
}

/* Where the text summary goes: standard error when an output took standard output ("-"). */
static FILE *summary_stream(const struct run_config *cfg)
{
    bool taken = out_file_is_stdout(cfg->summary_json_path) || out_file_is_stdout(cfg->html_path) ||
                 out_file_is_stdout(cfg->interval_log_path) ||
                 (cfg->register_agents && out_file_is_stdout(cfg->agents_file));
    return taken ? stderr : stdout;
}

/* Writes --summary-json and --html (the HTML page is rendered from the same summary). */
static int write_files(const struct run_ctx *c, const struct metrics *m,
                       const struct threshold_result *res)
{
    const struct run_config *cfg = &c->cfg;
    if (!cfg->summary_json_path && !cfg->html_path)
        return 0;
    json_object *config = options_config_json(cfg);
    struct report_meta meta = {.version = PACKAGE_VERSION,
                               .seed = cfg->seed,
                               .shard_k = cfg->shard_k,
                               .shard_n = cfg->shard_n ? cfg->shard_n : 1,
                               .started_at = c->started_at,
                               .ended_at = c->ended_at,
                               .config = config,
                               .result = &c->result};
    char err[ERR_MAX];
    int rc = 0;
    if (cfg->summary_json_path && report_json_write(cfg->summary_json_path, &meta, m, res,
                                                    c->n_thresholds, err, sizeof err) != 0) {
        fprintf(stderr, "fleetsim: --summary-json: %s\n", err);
        rc = EXIT_STATUS_FAILED;
    }
    if (cfg->html_path) {
        json_object *summary = report_json_build(&meta, m, res, c->n_thresholds);
        const char *log =
            out_file_is_stdout(cfg->interval_log_path) ? NULL : cfg->interval_log_path;
        if (!summary ||
            report_html_write_summary(summary, log, cfg->html_path, err, sizeof err) != 0) {
            fprintf(stderr, "fleetsim: --html: %s\n", summary ? err : "out of memory");
            rc = EXIT_STATUS_FAILED;
        } else if (err[0] != '\0') {
            fprintf(stderr, "fleetsim: --html: %s\n", err); /* the interval log's warning */
        }
        json_object_put(summary);
    }
    json_object_put(config);
    return rc;
}

/* Every actor's metrics and the registration's merged into m. */
static int merge_all(const struct run_ctx *c, struct metrics *m)
{
    for (size_t i = 0; i < c->n_actors; i++)
        if (c->actors[i].ops->merge(c->actors[i].state, m) != 0)
            return -1;
    return c->pre ? metrics_merge(m, c->pre) : 0;
}

/* The largest share of one core any actor's loop used, and of its time one wanted a CPU. */
static struct cpu_use max_cpu_use(const struct run_ctx *c)
{
    struct cpu_use use = {0, 0};
    for (size_t i = 0; i < c->n_actors; i++) {
        const struct run_actor *a = &c->actors[i];
        double core = a->ops->core_share ? a->ops->core_share(a->state) : 0;
        double demand = a->ops->demand_share ? a->ops->demand_share(a->state) : core;
        use.core = core > use.core ? core : use.core;
        use.demand = demand > use.demand ? demand : use.demand;
    }
    return use;
}

/* Requests still waiting or in flight when the actors' loops ended. */
static int64_t in_flight(const struct run_ctx *c)
{
    int64_t n = 0;
    for (size_t i = 0; i < c->n_actors; i++)
        n += c->actors[i].ops->in_flight(c->actors[i].state);
    return n;
}

/* The text summary: the engine's, then each actor's lines. */
static void print_summary(FILE *out, const struct run_ctx *c, const struct metrics *m,
                          const struct threshold_result *res, double core, int64_t known_in_flight)
{
    struct report_text_opts opts = {.thresholds = res,
                                    .n_thresholds = c->n_thresholds,
                                    .saturated_core = core >= RUN_SATURATED_CORE_SHARE,
                                    .known_in_flight = known_in_flight,
                                    .result = &c->result};
    report_text_write(out, m, &opts);
    print_seed_line(out, c);
    for (size_t i = 0; i < c->n_actors; i++)
        if (c->actors[i].ops->print)
            c->actors[i].ops->print(c->actors[i].state, m, out);
}

int run_report(struct run_ctx *c)
{
    struct metrics *m = metrics_new(false);
    struct threshold_result *res = calloc(c->n_thresholds ? c->n_thresholds : 1, sizeof *res);
    if (!m || !res || merge_all(c, m) != 0) {
        fprintf(stderr, "fleetsim: out of memory merging the results\n");
        metrics_free(m);
        free(res);
        return EXIT_STATUS_FAILED;
    }
    size_t failed = evaluate(c, m, res);
    struct cpu_use cpu = max_cpu_use(c);
    int64_t known_in_flight = in_flight(c) + (int64_t)c->pre_in_flight;
    judge(&c->result, &c->cfg, m, &cpu, known_in_flight);
    double core = cpu.core;
    c->result.status = run_result_decide(&c->result, failed, false);
    FILE *out = summary_stream(&c->cfg);
    print_summary(out, c, m, res, core, known_in_flight);
    uint64_t n429, answered;
    run_count_429(m, &n429, &answered);
    if (c->cfg.report_interval_ns == 0 && answered > 0 &&
        (double)n429 > RUN_429_HINT_SHARE * (double)answered)
        run_print_429_hint(n429, answered, c->target_is_refserver);
    char line[512];
    fprintf(out, "%s\n", run_result_line(&c->result, line, sizeof line));
    close_interval_log(c);
    int rc = write_files(c, m, res);
    metrics_free(m);
    free(res);
    if (rc != 0 || c->output_lost)
        return EXIT_STATUS_FAILED;
    return run_result_exit_code(&c->result);
}

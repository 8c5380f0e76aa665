/* src/run_report.c - the end of a run: merges the loops' metrics exactly, adds the fleet's
 * counters (retired, unknown agents, jobs, keys) as actor metrics, evaluates thresholds,
 * prints the text summary with the hints a user needs (unknown agents, 429 waves), writes
 * --summary-json and --html, closes --interval-log and picks the exit code (1 when an output
 * was lost). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "engine/exit_status.h"
#include "engine/out_file.h"
#include "engine/report.h"
#include "engine/report_html.h"
#include "src/run_acme.h"
#include "src/run_internal.h"
#include "src/run_operator.h"

#define ERR_MAX 512

void run_count_429(const struct metrics *m, uint64_t *n429, uint64_t *answered)
{
    *n429 = *answered = 0;
    for (size_t i = 0; i < metrics_series_count(m); i++) {
        const struct metrics_series *s = metrics_series_at(m, i);
        *n429 += s->total.status[429 - METRICS_STATUS_LOWEST];
        *answered += s->total.answered;
    }
}

void run_print_429_hint(uint64_t n429, uint64_t answered)
{
    fprintf(stderr,
            "fleetsim: hint: %.1f %% of answers were 429 Too Many Requests (%" PRIu64 " of %" PRIu64
            "). certctl's rate limiter counts per client IP (50 req/s, burst 100 by default), "
            "so one fleetsim address shares one bucket: disable it "
            "(CERTCTL_RATE_LIMIT_ENABLED=false), raise it, or spread the fleet over addresses "
            "with --source-ips (e.g. 127.0.0.2-127.0.0.254 on loopback)\n",
            100.0 * (double)n429 / (double)answered, n429, answered);
}

/* Adds one fleet counter as an actor metric when it is not zero. */
static void add_counter(struct metrics *m, const char *scenario, const char *name, uint64_t v)
{
    if (v > 0)
        metrics_counter_add(m, name, scenario, SIM_ACTOR_AGENT, NULL, NULL, NULL, v);
}

static void add_counters(struct metrics *m, const char *scenario, const struct agent_counters *k)
{
    add_counter(m, scenario, "agent_retired", k->retired);
    add_counter(m, scenario, "agent_unknown", k->unknown_agents);
    add_counter(m, scenario, "agent_jobs_received", k->jobs_received);
    add_counter(m, scenario, "agent_jobs_overflow", k->jobs_overflow);
    add_counter(m, scenario, "agent_work_unparsed", k->work_unparsed);
    add_counter(m, scenario, "agent_csr_generated", k->csr_generated);
    add_counter(m, scenario, "agent_csr_accepted", k->csr_accepted);
    add_counter(m, scenario, "agent_csr_failed", k->csr_failed);
    add_counter(m, scenario, "agent_deploy_completed", k->deploy_completed);
    add_counter(m, scenario, "agent_deploy_failed", k->deploy_failed);
    add_counter(m, scenario, "agent_key_match", k->key_match);
    add_counter(m, scenario, "agent_key_mismatch", k->key_mismatch);
    add_counter(m, scenario, "agent_key_missing", k->key_missing);
    add_counter(m, scenario, "agent_key_evictions", k->key_evictions);
    add_counter(m, scenario, "agent_keys_deferred", k->keys_deferred);
}

/* The lines about the fleet itself after the engine's summary. */
static void print_fleet_lines(FILE *out, const struct run_ctx *c, const struct agent_counters *k,
                              uint32_t n_shard)
{
    if (n_shard == 0) {
        fprintf(out, "\nseed %" PRIu64 "%s\n", c->cfg.seed,
                c->result.phase != RUN_PHASE_NONE ? " (interrupted)" : "");
        return;
    }
    char slot[40];
    run_timer_slot_text(c, slot, sizeof slot);
    fprintf(out,
            "\nfleet: %u agents (shard %u/%u of %u), scenario %s, profile %s, %s, seed %" PRIu64
            "%s\n",
            n_shard, c->cfg.shard_k, c->cfg.shard_n, c->cfg.agents, c->scenario,
            agent_profile_name(c->set.profile), slot, c->cfg.seed,
            c->result.phase != RUN_PHASE_NONE ? " (interrupted)" : "");
    if (k->retired)
        fprintf(out, "fleet: %" PRIu64 " agents were retired by the server (410) and stopped\n",
                k->retired);
    if (k->unknown_agents) {
        char id[AGENT_ID_MAX];
        agent_id(&c->set, k->first_unknown, id, sizeof id);
        fprintf(out,
                "fleet: %" PRIu64 " agents got 404 on heartbeat: agent %s does not exist in the "
                "server: run `fleetsim seed` or use --register\n",
                k->unknown_agents, id);
    }
    if (k->jobs_received || k->csr_generated)
        fprintf(out,
                "fleet: jobs %" PRIu64 " received; CSRs %" PRIu64 " accepted, %" PRIu64
                " failed; deployments %" PRIu64 " completed, %" PRIu64 " failed; keys %" PRIu64
                " matched, %" PRIu64 " mismatched, %" PRIu64 " missing, %" PRIu64 " evicted\n",
                k->jobs_received, k->csr_accepted, k->csr_failed, k->deploy_completed,
                k->deploy_failed, k->key_match, k->key_mismatch, k->key_missing, k->key_evictions);
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
 * loops lagged while a thread used a whole core; server_slow when agents were left waiting on
 * the server (requests dropped because the previous one was unanswered, timeouts, requests
 * still unanswered at the end); else kept_up. */
static void judge(struct run_result *r, const struct metrics *m, double core, int64_t in_flight)
{
    struct metrics_accounting a;
    metrics_accounting(m, &a);
    char lag[96];
    bool lagged = report_bottleneck_lag(m, lag, sizeof lag);
    if (lagged && core >= RUN_SATURATED_CORE_SHARE) {
        r->verdict = RUN_VERDICT_CLIENT_SATURATED;
        snprintf(r->verdict_why, sizeof r->verdict_why,
                 "%s while a loop thread used %.0f %% of a core: use more --threads or --shard "
                 "the fleet over processes or hosts",
                 lag, 100.0 * core);
    } else if (a.dropped > 0 || a.timed_out > 0 || in_flight > 0) {
        r->verdict = RUN_VERDICT_SERVER_SLOW;
        snprintf(r->verdict_why, sizeof r->verdict_why,
                 "agents waited on the server: %" PRIu64 " ticks dropped behind unanswered "
                 "requests, %" PRIu64 " timed out, %" PRId64 " unanswered at the end",
                 a.dropped, a.timed_out, in_flight);
    } else {
        r->verdict = RUN_VERDICT_KEPT_UP;
        snprintf(r->verdict_why, sizeof r->verdict_why, "%s", lag);
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

/* Every loop's metrics (fleet, operator, ACME clients, registration) merged into m. */
static int merge_all(const struct run_ctx *c, const struct fleet *f, struct metrics *m)
{
    if (f && fleet_metrics_merge(f, m) != 0)
        return -1;
    if (run_operator_merge(c->op, m) != 0 || run_acme_merge(c->acme, m) != 0)
        return -1;
    return c->pre ? metrics_merge(m, c->pre) : 0;
}

int run_report(struct run_ctx *c, struct fleet *f)
{
    struct metrics *m = metrics_new(false);
    struct threshold_result *res = calloc(c->n_thresholds ? c->n_thresholds : 1, sizeof *res);
    if (!m || !res || merge_all(c, f, m) != 0) {
        fprintf(stderr, "fleetsim: out of memory merging the results\n");
        metrics_free(m);
        free(res);
        return EXIT_STATUS_FAILED;
    }
    struct agent_counters k = {0};
    if (f) {
        fleet_counters(f, &k);
        add_counters(m, c->scenario, &k);
    }
    size_t failed = evaluate(c, m, res);
    double core = f ? fleet_max_core_share(f) : 0;
    if (run_acme_max_core_share(c->acme) > core)
        core = run_acme_max_core_share(c->acme);
    int64_t in_flight = (f ? fleet_in_flight(f) : 0) + run_operator_in_flight(c->op) +
                        run_acme_in_flight(c->acme) + (int64_t)c->pre_in_flight;
    struct report_text_opts opts = {.thresholds = res,
                                    .n_thresholds = c->n_thresholds,
                                    .saturated_core = core >= RUN_SATURATED_CORE_SHARE,
                                    .known_in_flight = in_flight,
                                    .result = &c->result};
    judge(&c->result, m, core, in_flight);
    c->result.status = run_result_decide(&c->result, failed, false);
    FILE *out = summary_stream(&c->cfg);
    report_text_write(out, m, &opts);
    print_fleet_lines(out, c, &k, f ? fleet_size(f) : 0);
    run_operator_print(c->op, out);
    run_acme_print(c->acme, m, out);
    uint64_t n429, answered;
    run_count_429(m, &n429, &answered);
    if (c->cfg.report_interval_ns == 0 && answered > 0 &&
        (double)n429 > RUN_429_HINT_SHARE * (double)answered)
        run_print_429_hint(n429, answered);
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

/* tests/unit/outputs_fixture.c - deterministic registries and summary files for the output
 * tests (see outputs_fixture.h). */
#include "tests/unit/outputs_fixture.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/report_json.h"
#include "engine/threshold.h"

#define NS_PER_US 1000ULL
#define BASE_NS 1000000000ULL
#define NS_PER_S 1000000000.0

void fx_answered(struct metrics_series *s, uint64_t duration_us, uint64_t lag_us, int status,
                 bool failed)
{
    struct request_timing t = {
        BASE_NS, BASE_NS + lag_us * NS_PER_US, 0, BASE_NS + duration_us * NS_PER_US, 0, 0, 0};
    metrics_scheduled(s);
    metrics_answered(s, &t, status, failed);
}

/* A value from 50 us to about 5 s that depends only on i. */
static uint64_t value_us(size_t i)
{
    uint64_t x = (uint64_t)i * 0x9E3779B97F4A7C15ULL + 0x2545F4914F6CDD1DULL;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 32;
    double share = (double)(x % 1000000) / 1000000.0; /* 0..1 */
    return 50 + (uint64_t)(share * share * share * 5000000.0);
}

/* Request i: mostly 200s, some 500s, 429s, transport errors, timeouts, drops, in flight. */
static void request(struct metrics *m, size_t i)
{
    struct metrics_series *hb = metrics_series(m, FX_SCENARIO, "agent", "heartbeat");
    struct metrics_series *odd = metrics_series(m, FX_ODD_SCENARIO, "operator", "bulk_renew");
    struct metrics_series *s = i % 5 == 4 ? odd : hb;
    uint64_t v = value_us(i), lag = v / 50;
    struct request_timing t = {BASE_NS, BASE_NS + lag * NS_PER_US, 0, BASE_NS + v * NS_PER_US, 0, 0,
                               0};
    switch (i % 41) {
    case 7:
        fx_answered(s, v, lag, 500, true);
        break;
    case 13:
        fx_answered(s, v, lag, 429, true);
        break;
    case 17:
        metrics_scheduled(s);
        metrics_transport_error(s, &t, METRICS_ERR_CONNECT);
        break;
    case 19:
        metrics_scheduled(s);
        metrics_timed_out(s, &t);
        break;
    case 23:
        metrics_scheduled(s);
        metrics_dropped(s);
        break;
    case 29:
        metrics_scheduled(s);
        break; /* still in flight at the end */
    case 31:
        fx_answered(s, v, lag, 404, false);
        break;
    default:
        fx_answered(s, v, lag, 200, false);
        break;
    }
}

static void actor_metrics(struct metrics *m, size_t i)
{
    if (i % 3 == 0)
        metrics_counter_add(m, "acme_problems", "acme-burst", "acme", "acme_nonce", "problem",
                            i % 2 ? "badNonce" : "rateLimited", 1);
    if (i % 4 == 0)
        metrics_rate_add(m, "acme_rate_limit_shape_ok", "acme-burst", "acme", "acme_directory",
                         NULL, NULL, i % 8 == 0);
    if (i % 10 == 0)
        metrics_trend_record(m, "campaign_duration", "bulk-renewal", "operator", NULL,
                             value_us(i) * 10);
    if (i % 25 == 0)
        metrics_counter_add(m, "acme_orders_completed", "fleet", "acme", NULL, NULL, NULL, 2);
}

struct metrics *fx_registry(size_t n, int part, int parts, double elapsed_s)
{
    struct metrics *m = metrics_new(false);
    if (m == NULL)
        return NULL;
    /* the series exist in every shard, in the same order */
    metrics_series(m, FX_SCENARIO, "agent", "heartbeat");
    metrics_series(m, FX_ODD_SCENARIO, "operator", "bulk_renew");
    for (size_t i = 0; i < n; i++) {
        if (part >= 0 && (int)(i % (size_t)parts) != part)
            continue;
        request(m, i);
        actor_metrics(m, i);
    }
    metrics_set_elapsed_ns(m, (uint64_t)(elapsed_s * NS_PER_S));
    return m;
}

int fx_write_summary(const char *path, const struct metrics *m, uint64_t seed, uint32_t shard_k,
                     uint32_t shard_n, const char *const *specs, size_t n_specs)
{
    struct threshold_result res[8];
    struct threshold t;
    char err[512];
    if (n_specs > sizeof res / sizeof res[0])
        return -EINVAL;
    for (size_t i = 0; i < n_specs; i++) {
        if (threshold_parse(specs[i], &t, err, sizeof err) != 0 ||
            threshold_evaluate(&t, m, &res[i]) != 0) {
            fprintf(stderr, "fixture threshold %s: %s\n", specs[i], err);
            return -EINVAL;
        }
    }
    json_object *config = json_object_new_object();
    json_object_object_add(config, "agents", json_object_new_int(100));
    struct report_meta meta = {"0.1.0-test",         seed,   shard_k, shard_n, 1795000000 + shard_k,
                               1795000300 + shard_k, config, NULL};
    int rc = report_json_write(path, &meta, m, res, n_specs, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "fixture: %s\n", err);
    json_object_put(config);
    return rc;
}

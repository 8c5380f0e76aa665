/* engine/threshold.c - parsing of k6-style thresholds `METRIC[{tag:value,...}]:EXPR`
 * against the known metrics, their tags and aggregations. Evaluation is in
 * threshold_eval.c. */
#include "engine/threshold.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Which optional tags (beyond scenario/actor/endpoint) a metric accepts. */
enum { TAG_STATUS = 1, TAG_PROBLEM = 2 };

struct metric_def {
    const char *name;
    enum threshold_metric_type type;
    unsigned extra_tags;
};

static const struct metric_def metric_defs[] = {
    {METRIC_HTTP_REQ_DURATION, THRESHOLD_TREND, 0},
    {METRIC_HTTP_REQ_SERVICE, THRESHOLD_TREND, 0},
    {METRIC_HTTP_REQ_LAG, THRESHOLD_TREND, 0},
    {METRIC_CAMPAIGN_DURATION, THRESHOLD_TREND, 0},
    {METRIC_HTTP_REQ_FAILED, THRESHOLD_RATE, 0},
    {METRIC_HTTP_REQ_5XX, THRESHOLD_RATE, 0},
    {METRIC_ACME_RATE_LIMIT_SHAPE_OK, THRESHOLD_RATE, 0},
    {METRIC_HTTP_REQS, THRESHOLD_COUNTER, TAG_STATUS},
    {METRIC_HTTP_429, THRESHOLD_COUNTER, 0},
    {METRIC_DROPPED_REQUESTS, THRESHOLD_COUNTER, 0},
    {METRIC_ACME_ORDERS_COMPLETED, THRESHOLD_COUNTER, 0},
    {METRIC_ACME_PROBLEMS, THRESHOLD_COUNTER, TAG_PROBLEM},
    /* the operator's counters (sim/operator.h) */
    {"bulk_renew_matched", THRESHOLD_COUNTER, 0},
    {"bulk_renew_enqueued", THRESHOLD_COUNTER, 0},
    {"bulk_renew_skipped", THRESHOLD_COUNTER, 0},
    {"bulk_renew_failed", THRESHOLD_COUNTER, 0},
    {"campaign_renewed", THRESHOLD_COUNTER, 0},
    {"campaign_pending", THRESHOLD_COUNTER, 0},
    {"campaign_skipped", THRESHOLD_COUNTER, 0},
    {"campaign_failed", THRESHOLD_COUNTER, 0},
};

#define N_METRIC_DEFS (sizeof metric_defs / sizeof metric_defs[0])

/* Duration units and their size in milliseconds. */
static const struct {
    const char *suffix;
    double ms;
} duration_units[] = {{"us", 0.001}, {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}};

/* Parsing state: the spec, where we are, and where errors go. */
struct cursor {
    const char *spec;
    const char *p;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct cursor *c, const char *fmt, ...)
{
    char what[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "threshold '%s': %s", c->spec, what);
    return -EINVAL;
}

static const struct metric_def *metric_lookup(const char *name)
{
    for (size_t i = 0; i < N_METRIC_DEFS; i++)
        if (strcmp(metric_defs[i].name, name) == 0)
            return &metric_defs[i];
    return NULL;
}

bool threshold_metric_type(const char *metric, enum threshold_metric_type *type)
{
    const struct metric_def *d = metric ? metric_lookup(metric) : NULL;
    if (d != NULL && type != NULL)
        *type = d->type;
    return d != NULL;
}

static void skip_space(struct cursor *c)
{
    while (*c->p == ' ' || *c->p == '\t')
        c->p++;
}

/* Copy a run of name characters [A-Za-z0-9_.-] into out. Returns its length (0: none). */
static size_t take_word(struct cursor *c, char *out, size_t outlen)
{
    size_t n = 0;
    skip_space(c);
    while (isalnum((unsigned char)c->p[n]) || c->p[n] == '_' || c->p[n] == '-' || c->p[n] == '.')
        n++;
    if (n == 0 || n >= outlen)
        return n;
    memcpy(out, c->p, n);
    out[n] = '\0';
    c->p += n;
    skip_space(c);
    return n;
}

static int parse_metric(struct cursor *c, struct threshold *t, const struct metric_def **def)
{
    size_t n = take_word(c, t->metric, sizeof t->metric);
    if (n == 0)
        return fail(c, "expected a metric name at the start");
    if (n >= sizeof t->metric)
        return fail(c, "metric name too long");
    *def = metric_lookup(t->metric);
    if (*def == NULL)
        return fail(c,
                    "unknown metric '%s' (known: http_req_duration, http_req_service, "
                    "http_req_lag, http_req_failed, http_req_5xx, http_reqs, http_429, "
                    "dropped_requests, campaign_duration, acme_orders_completed, "
                    "acme_problems, acme_rate_limit_shape_ok, bulk_renew_matched, "
                    "bulk_renew_enqueued, bulk_renew_skipped, bulk_renew_failed, "
                    "campaign_renewed, campaign_pending, campaign_skipped, campaign_failed)",
                    t->metric);
    t->type = (*def)->type;
    return 0;
}

static bool valid_status(const char *v)
{
    if (strlen(v) != 3 || v[0] < '1' || v[0] > '5')
        return false;
    if (v[1] == 'x' && v[2] == 'x')
        return true;
    return isdigit((unsigned char)v[1]) && isdigit((unsigned char)v[2]);
}

static bool valid_plain_word(const char *v)
{
    for (; *v; v++)
        if (!isalnum((unsigned char)*v))
            return false;
    return true;
}

/* Check that tag key/value pair fits the metric. */
static int check_tag(struct cursor *c, const struct metric_def *def, const struct threshold_tag *g)
{
    if (strcmp(g->key, METRICS_TAG_SCENARIO) == 0)
        return 0; /* syntax checked by take_word; names by threshold_check_scenarios */
    if (strcmp(g->key, METRICS_TAG_ACTOR) == 0)
        return metrics_actor_known(g->value)
                   ? 0
                   : fail(c, "unknown actor '%s' (known: agent, operator, acme)", g->value);
    if (strcmp(g->key, METRICS_TAG_ENDPOINT) == 0)
        return metrics_endpoint_known(g->value) ? 0 : fail(c, "unknown endpoint '%s'", g->value);
    if (strcmp(g->key, METRICS_TAG_STATUS) == 0) {
        if (!(def->extra_tags & TAG_STATUS))
            return fail(c, "tag 'status' does not apply to %s (only to http_reqs)", def->name);
        return valid_status(g->value)
                   ? 0
                   : fail(c, "bad status '%s' (expected 100..599 or 1xx..5xx)", g->value);
    }
    if (strcmp(g->key, METRICS_TAG_PROBLEM) == 0) {
        if (!(def->extra_tags & TAG_PROBLEM))
            return fail(c, "tag 'problem' does not apply to %s (only to acme_problems)", def->name);
        return valid_plain_word(g->value)
                   ? 0
                   : fail(c, "bad problem '%s' (expected a word such as badNonce)", g->value);
    }
    return fail(c, "unknown tag '%s' (known: scenario, actor, endpoint, status, problem)", g->key);
}

static int parse_one_tag(struct cursor *c, const struct metric_def *def, struct threshold *t)
{
    struct threshold_tag *g = &t->tags[t->n_tags];
    if (t->n_tags == THRESHOLD_MAX_TAGS)
        return fail(c, "too many tags");
    size_t n = take_word(c, g->key, sizeof g->key);
    if (n == 0 || n >= sizeof g->key || *c->p != ':')
        return fail(c, "expected tag:value inside {}");
    c->p++;
    n = take_word(c, g->value, sizeof g->value);
    if (n == 0 || n >= sizeof g->value)
        return fail(c, "expected a value for tag '%s'", g->key);
    for (size_t i = 0; i < t->n_tags; i++)
        if (strcmp(t->tags[i].key, g->key) == 0)
            return fail(c, "tag '%s' given twice", g->key);
    int rc = check_tag(c, def, g);
    if (rc == 0)
        t->n_tags++;
    return rc;
}

static int parse_tags(struct cursor *c, const struct metric_def *def, struct threshold *t)
{
    if (*c->p != '{')
        return 0;
    c->p++;
    skip_space(c);
    if (*c->p == '}')
        return fail(c, "empty tag filter {}");
    for (;;) {
        int rc = parse_one_tag(c, def, t);
        if (rc != 0)
            return rc;
        if (*c->p == '}')
            break;
        if (*c->p != ',')
            return fail(c, "expected ',' or '}' after tag '%s'", t->tags[t->n_tags - 1].key);
        c->p++;
    }
    c->p++;
    skip_space(c);
    return 0;
}

static int parse_percentile(struct cursor *c, struct threshold *t)
{
    char *end;
    c->p += 2; /* "p(" */
    double pct = strtod(c->p, &end);
    if (end == c->p || *end != ')' || !(pct > 0 && pct <= 100))
        return fail(c, "p(N) needs a number 0 < N <= 100");
    t->agg = THRESHOLD_AGG_PERCENTILE;
    t->percentile = pct;
    c->p = end + 1;
    return 0;
}

static int parse_agg(struct cursor *c, struct threshold *t)
{
    static const struct {
        const char *name;
        enum threshold_agg agg;
    } aggs[] = {{"avg", THRESHOLD_AGG_AVG},     {"med", THRESHOLD_AGG_MED},
                {"min", THRESHOLD_AGG_MIN},     {"max", THRESHOLD_AGG_MAX},
                {"count", THRESHOLD_AGG_COUNT}, {"rate", THRESHOLD_AGG_RATE}};
    skip_space(c);
    if (strncmp(c->p, "p(", 2) == 0)
        return parse_percentile(c, t);
    for (size_t i = 0; i < sizeof aggs / sizeof aggs[0]; i++) {
        size_t n = strlen(aggs[i].name);
        if (strncmp(c->p, aggs[i].name, n) == 0 && !isalnum((unsigned char)c->p[n])) {
            t->agg = aggs[i].agg;
            c->p += n;
            return 0;
        }
    }
    return fail(c, "expected an aggregation after ':' (p(N), avg, med, min, max, count, rate)");
}

static int check_agg_fits(struct cursor *c, const struct threshold *t)
{
    bool ok;
    switch (t->type) {
    case THRESHOLD_TREND:
        ok = t->agg != THRESHOLD_AGG_RATE;
        return ok ? 0
                  : fail(c, "%s is a duration: use p(N), avg, med, min, max or count", t->metric);
    case THRESHOLD_RATE:
        ok = t->agg == THRESHOLD_AGG_RATE;
        return ok ? 0 : fail(c, "%s is a rate: use rate", t->metric);
    case THRESHOLD_COUNTER:
        ok = t->agg == THRESHOLD_AGG_COUNT || t->agg == THRESHOLD_AGG_RATE;
        return ok ? 0 : fail(c, "%s is a counter: use count or rate", t->metric);
    }
    return fail(c, "internal: unknown metric type");
}

static int parse_op(struct cursor *c, struct threshold *t)
{
    static const struct {
        const char *text;
        enum threshold_op op;
    } ops[] = {{"<=", THRESHOLD_LE},
               {">=", THRESHOLD_GE},
               {"==", THRESHOLD_EQ},
               {"<", THRESHOLD_LT},
               {">", THRESHOLD_GT}};
    skip_space(c);
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t n = strlen(ops[i].text);
        if (strncmp(c->p, ops[i].text, n) == 0) {
            t->op = ops[i].op;
            c->p += n;
            skip_space(c);
            return 0;
        }
    }
    return fail(c, "expected an operator (<, <=, >, >=, ==) after the aggregation");
}

/* Milliseconds per unit for the suffix at p (the whole rest of the spec), or -1. */
static double unit_ms(const char *p)
{
    for (size_t i = 0; i < sizeof duration_units / sizeof duration_units[0]; i++)
        if (strcmp(p, duration_units[i].suffix) == 0)
            return duration_units[i].ms;
    return -1;
}

static bool is_duration(const struct threshold *t)
{
    return t->type == THRESHOLD_TREND && t->agg != THRESHOLD_AGG_COUNT;
}

static int parse_number(struct cursor *c, struct threshold *t)
{
    char *end;
    if (!isdigit((unsigned char)*c->p) && *c->p != '.')
        return fail(c, "expected a non-negative number after the operator");
    double v = strtod(c->p, &end);
    if (end == c->p || !isfinite(v))
        return fail(c, "expected a number after the operator");
    const char *rest = end;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*rest == '\0' || *end == '\0') {
        t->value = v;
        return 0;
    }
    double ms = unit_ms(rest);
    if (ms < 0)
        return fail(c, "unexpected '%s' after the number (units: us, ms, s, m, h)", rest);
    if (!is_duration(t))
        return fail(c, "a unit ('%s') only applies to durations; %s:%s takes a plain number", rest,
                    t->metric, t->agg == THRESHOLD_AGG_COUNT ? "count" : "rate");
    t->value = v * ms;
    return 0;
}

int threshold_parse(const char *spec, struct threshold *out, char *err, size_t errlen)
{
    struct cursor c = {spec ? spec : "", spec ? spec : "", err, errlen};
    const struct metric_def *def;
    memset(out, 0, sizeof *out);
    if (strlen(c.spec) >= sizeof out->spec)
        return fail(&c, "longer than %d characters", THRESHOLD_SPEC_MAX - 1);
    snprintf(out->spec, sizeof out->spec, "%s", c.spec);
    int rc = parse_metric(&c, out, &def);
    if (rc == 0)
        rc = parse_tags(&c, def, out);
    if (rc == 0 && *c.p != ':')
        rc = fail(&c, "expected ':' between the metric and the expression, e.g. %s:p(99)<1000",
                  out->metric);
    if (rc != 0)
        return rc;
    c.p++;
    rc = parse_agg(&c, out);
    if (rc == 0)
        rc = check_agg_fits(&c, out);
    if (rc == 0)
        rc = parse_op(&c, out);
    if (rc == 0)
        rc = parse_number(&c, out);
    return rc;
}

int threshold_check_scenarios(const struct threshold *t, const char *const *names, size_t n,
                              char *err, size_t errlen)
{
    for (size_t i = 0; i < t->n_tags; i++) {
        if (strcmp(t->tags[i].key, METRICS_TAG_SCENARIO) != 0)
            continue;
        for (size_t j = 0; j < n; j++)
            if (names[j] != NULL && strcmp(names[j], t->tags[i].value) == 0)
                return 0;
        snprintf(err, errlen, "threshold '%s': scenario '%s' is not part of this run", t->spec,
                 t->tags[i].value);
        return -EINVAL;
    }
    return 0;
}

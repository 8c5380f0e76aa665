/* engine/threshold.c - parsing of k6-style thresholds `METRIC[{tag:value,...}]:EXPR`
 * against the known metrics (the engine's own and the registered ones, engine/metric_names.h),
 * their tags and aggregations. Evaluation is in threshold_eval.c. */
#include "engine/threshold.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/metric_names.h"

/* Longest "known: ..." list in an error message. */
#define KNOWN_LIST_MAX 1024

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
    char what[KNOWN_LIST_MAX + 256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(c->err, c->errlen, "threshold '%s': %s", c->spec, what);
    return -EINVAL;
}

/* Threshold type of a metric kind. */
static enum threshold_metric_type type_of(enum metrics_kind kind)
{
    switch (kind) {
    case METRICS_COUNTER:
        return THRESHOLD_COUNTER;
    case METRICS_RATE:
        return THRESHOLD_RATE;
    default:
        return THRESHOLD_TREND;
    }
}

bool threshold_metric_type(const char *metric, enum threshold_metric_type *type)
{
    const struct metric_name *d = metric ? metric_names_metric(metric) : NULL;
    if (d != NULL && type != NULL)
        *type = type_of(d->kind);
    return d != NULL;
}

/* Appends ", name" (or "name" first) to buf of n bytes, truncating quietly. */
static void list_append(char *buf, size_t n, const char *name)
{
    size_t len = strlen(buf);
    if (len < n)
        snprintf(buf + len, n - len, "%s%s", len ? ", " : "", name);
}

/* The known metric names, comma-separated, into buf. */
static void known_metrics(char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t i = 0; i < metric_names_metric_count(); i++)
        list_append(buf, n, metric_names_metric_at(i)->name);
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

static int parse_metric(struct cursor *c, struct threshold *t, const struct metric_name **def)
{
    size_t n = take_word(c, t->metric, sizeof t->metric);
    if (n == 0)
        return fail(c, "expected a metric name at the start");
    if (n >= sizeof t->metric)
        return fail(c, "metric name too long");
    *def = metric_names_metric(t->metric);
    if (*def == NULL) {
        char known[KNOWN_LIST_MAX];
        known_metrics(known, sizeof known);
        return fail(c, "unknown metric '%s' (known: %s)", t->metric, known);
    }
    t->type = type_of((*def)->kind);
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

/* The names of a registered list, comma-separated, into buf. */
static void known_list(char *buf, size_t n, size_t count, const char *(*at)(size_t))
{
    buf[0] = '\0';
    for (size_t i = 0; i < count; i++)
        list_append(buf, n, at(i));
}

static int check_actor(struct cursor *c, const char *value)
{
    char known[KNOWN_LIST_MAX];
    if (metric_names_actor_known(value))
        return 0;
    known_list(known, sizeof known, metric_names_actor_count(), metric_names_actor_at);
    return fail(c, "unknown actor '%s' (known: %s)", value, known);
}

/* The metrics that take extra tag key, comma-separated, into buf. */
static void metrics_with_tag(char *buf, size_t n, const char *key)
{
    buf[0] = '\0';
    for (size_t i = 0; i < metric_names_metric_count(); i++) {
        const struct metric_name *d = metric_names_metric_at(i);
        if (d->extra_tag != NULL && strcmp(d->extra_tag, key) == 0)
            list_append(buf, n, d->name);
    }
}

/* The tag keys a threshold may name, comma-separated, into buf. */
static void known_tags(char *buf, size_t n)
{
    snprintf(buf, n, "%s, %s, %s", METRICS_TAG_SCENARIO, METRICS_TAG_ACTOR, METRICS_TAG_ENDPOINT);
    for (size_t i = 0; i < metric_names_metric_count(); i++) {
        const char *key = metric_names_metric_at(i)->extra_tag;
        bool seen = key == NULL;
        for (size_t j = 0; !seen && j < i; j++)
            seen = metric_names_metric_at(j)->extra_tag != NULL &&
                   strcmp(metric_names_metric_at(j)->extra_tag, key) == 0;
        if (!seen)
            list_append(buf, n, key);
    }
}

/* An extra tag (status, or a registered metric's own such as a problem type): it must be the
 * metric's, and its value a status (100..599, 1xx..5xx) or a plain word. */
static int check_extra_tag(struct cursor *c, const struct metric_name *def,
                           const struct threshold_tag *g)
{
    char known[KNOWN_LIST_MAX];
    if (!metric_names_extra_tag_known(g->key)) {
        known_tags(known, sizeof known);
        return fail(c, "unknown tag '%s' (known: %s)", g->key, known);
    }
    if (def->extra_tag == NULL || strcmp(def->extra_tag, g->key) != 0) {
        metrics_with_tag(known, sizeof known, g->key);
        return fail(c, "tag '%s' does not apply to %s (only to %s)", g->key, def->name, known);
    }
    if (strcmp(g->key, METRICS_TAG_STATUS) == 0)
        return valid_status(g->value)
                   ? 0
                   : fail(c, "bad status '%s' (expected 100..599 or 1xx..5xx)", g->value);
    return valid_plain_word(g->value)
               ? 0
               : fail(c, "bad %s '%s' (expected a word of letters and digits)", g->key, g->value);
}

/* Check that tag key/value pair fits the metric. */
static int check_tag(struct cursor *c, const struct metric_name *def, const struct threshold_tag *g)
{
    if (strcmp(g->key, METRICS_TAG_SCENARIO) == 0)
        return 0; /* syntax checked by take_word; names by threshold_check_scenarios */
    if (strcmp(g->key, METRICS_TAG_ACTOR) == 0)
        return check_actor(c, g->value);
    if (strcmp(g->key, METRICS_TAG_ENDPOINT) == 0)
        return metric_names_endpoint_known(g->value) ? 0
                                                     : fail(c, "unknown endpoint '%s'", g->value);
    return check_extra_tag(c, def, g);
}

static int parse_one_tag(struct cursor *c, const struct metric_name *def, struct threshold *t)
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

static int parse_tags(struct cursor *c, const struct metric_name *def, struct threshold *t)
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
    return fail(c, "expected a comparison (<, <=, >, >=, ==) after the aggregation");
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
        return fail(c, "expected a non-negative number after the comparison");
    double v = strtod(c->p, &end);
    if (end == c->p || !isfinite(v))
        return fail(c, "expected a number after the comparison");
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
    const struct metric_name *def;
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

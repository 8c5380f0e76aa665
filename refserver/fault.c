/* refserver/fault.c - parsing of --fault rules and the per-request fault decision (see fault.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/parse.h"
#include "sim/identity.h"
#include "refserver/fault.h"

#define FAULT_NAME_MAX 32

static int fault_fail(char *err, size_t errlen, const char *fmt, const char *what)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, what);
    return -EINVAL;
}

/* A share "0.05" (0..1) or a percentage "5%". */
static int parse_share(const char *s, double *out, char *err, size_t errlen)
{
    size_t len = strlen(s);
    if (len > 0 && s[len - 1] == '%') {
        double pct;
        if (parse_percent(s, 0.0, 100.0, &pct, err, errlen) < 0)
            return -EINVAL;
        *out = pct / 100.0;
        return 0;
    }
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (len == 0 || errno || end != s + len || !(v >= 0.0 && v <= 1.0))
        return fault_fail(err, errlen, "has a bad share \"%s\" (expected 0..1 or N%%)", s);
    *out = v;
    return 0;
}

static int parse_latency(const char *v, struct fault_rule *out, char *err, size_t errlen)
{
    char buf[64];
    if (strlen(v) >= sizeof buf)
        return fault_fail(err, errlen, "has a latency \"%s\" that is too long", v);
    strcpy(buf, v);
    char *dash = strchr(buf, '-');
    if (dash)
        *dash = '\0';
    if (parse_duration_ns(buf, 0, FAULT_MAX_DELAY_NS, &out->min_ns, err, errlen) < 0)
        return -EINVAL;
    out->max_ns = out->min_ns;
    if (dash) {
        if (parse_duration_ns(dash + 1, 0, FAULT_MAX_DELAY_NS, &out->max_ns, err, errlen) < 0)
            return -EINVAL;
        if (out->max_ns < out->min_ns)
            return fault_fail(err, errlen, "has a latency range \"%s\" that is descending", v);
    }
    return 0;
}

int fault_parse(const char *spec, struct fault_rule *out, char *err, size_t errlen)
{
    const char *colon = strchr(spec, ':');
    const char *eq = colon ? strchr(colon, '=') : NULL;
    if (!colon || !eq)
        return fault_fail(err, errlen, "%s", "is not ENDPOINT:KIND=VALUE");
    size_t ep_len = (size_t)(colon - spec), kind_len = (size_t)(eq - colon - 1);
    char ep[FAULT_NAME_MAX], kind[FAULT_NAME_MAX];
    if (ep_len == 0 || ep_len >= sizeof ep || kind_len == 0 || kind_len >= sizeof kind)
        return fault_fail(err, errlen, "%s", "is not ENDPOINT:KIND=VALUE");
    memcpy(ep, spec, ep_len);
    ep[ep_len] = '\0';
    memcpy(kind, colon + 1, kind_len);
    kind[kind_len] = '\0';
    const char *value = eq + 1;

    struct fault_rule r = {0};
    if (strcmp(ep, "*") == 0) {
        r.endpoint = -1;
    } else {
        r.endpoint = endpoint_from_name(ep);
        if (r.endpoint < 0)
            return fault_fail(err, errlen, "has an unknown endpoint \"%s\"", ep);
    }
    int rc;
    if (strcmp(kind, "latency") == 0) {
        r.kind = FAULT_LATENCY;
        rc = parse_latency(value, &r, err, errlen);
    } else if (strcmp(kind, "stall") == 0) {
        r.kind = FAULT_STALL;
        rc = parse_duration_ns(value, 1, FAULT_MAX_DELAY_NS, &r.min_ns, err, errlen);
        r.max_ns = r.min_ns;
    } else if (strcmp(kind, "error") == 0) {
        r.kind = FAULT_ERROR;
        rc = parse_share(value, &r.share, err, errlen);
    } else if (strcmp(kind, "drop") == 0) {
        r.kind = FAULT_DROP;
        rc = parse_share(value, &r.share, err, errlen);
    } else {
        return fault_fail(err, errlen,
                          "has an unknown kind \"%s\" (expected latency, error, drop or stall)",
                          kind);
    }
    if (rc < 0)
        return -EINVAL;
    *out = r;
    return 0;
}

int fault_set_init(struct fault_set *set, const char *const *specs, size_t n, uint64_t seed,
                   char *err, size_t errlen)
{
    memset(set, 0, sizeof *set);
    set->rng = seed ^ 0x6661756c74736565ULL; /* "faultsee": keeps it apart from identity RNGs */
    if (n > FAULT_MAX_RULES) {
        if (err && errlen)
            snprintf(err, errlen, "too many --fault rules (at most %d)", FAULT_MAX_RULES);
        return -E2BIG;
    }
    for (size_t i = 0; i < n; i++) {
        char why[160];
        if (fault_parse(specs[i], &set->rules[i], why, sizeof why) < 0) {
            if (err && errlen)
                snprintf(err, errlen, "\"%s\" %s", specs[i], why);
            return -EINVAL;
        }
        int ep = set->rules[i].endpoint;
        for (int e = 0; e < EP_COUNT; e++)
            if (ep < 0 || ep == e)
                set->any[e] = true;
    }
    set->n = n;
    return 0;
}

bool fault_decide(struct fault_set *set, enum target_endpoint ep, struct fault_decision *out)
{
    memset(out, 0, sizeof *out);
    if ((unsigned)ep >= EP_COUNT || !set->any[ep])
        return false;
    bool any = false;
    for (size_t i = 0; i < set->n; i++) {
        const struct fault_rule *r = &set->rules[i];
        if (r->endpoint >= 0 && r->endpoint != (int)ep)
            continue;
        switch (r->kind) {
        case FAULT_LATENCY: {
            uint64_t d = r->min_ns;
            if (r->max_ns > r->min_ns)
                d += (uint64_t)(identity_rng_unit(&set->rng) * (double)(r->max_ns - r->min_ns));
            out->delay_ns += d;
            any = true;
            break;
        }
        case FAULT_STALL:
            if (r->min_ns > out->stall_ns)
                out->stall_ns = r->min_ns;
            any = true;
            break;
        case FAULT_ERROR:
            if (identity_rng_unit(&set->rng) < r->share) {
                out->error = true;
                any = true;
            }
            break;
        case FAULT_DROP:
            if (identity_rng_unit(&set->rng) < r->share) {
                out->drop = true;
                any = true;
            }
            break;
        }
    }
    return any;
}

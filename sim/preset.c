/* sim/preset.c - the table of scenario presets (see preset.h). agent-storm reproduces
 * certctl's k6 agent scenario: 5,000 agents heartbeating every 30 s without polling;
 * bulk-renewal adds an operator renewing 10,000 certificates that the polling fleet carries out;
 * acme-burst is certctl's k6 acme_flow with 200 clients; fleet runs all of it at once. */
#include "sim/preset.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "engine/parse.h"
#include "sim/names.h"

#define NS_PER_S 1000000000ULL

static const struct preset presets[] = {
    {
        .name = "agent-storm",
        .description =
            "5,000 agents heartbeating every 30 s (about 167 req/s), no work polling, 5 min",
        .has_agents = true,
        .agents = 5000,
        .has_heartbeat = true,
        .heartbeat_ns = 30 * NS_PER_S,
        .has_poll = true,
        .poll_ns = 0,
        .has_duration = true,
        .duration_ns = 300 * NS_PER_S,
        .thresholds =
            {
                "http_req_duration{scenario:agent-storm,endpoint:" SIM_EP_NAME_HEARTBEAT
                "}:p(99)<1000",
                "http_req_duration{scenario:agent-storm,endpoint:" SIM_EP_NAME_HEARTBEAT
                "}:p(95)<500",
                "http_req_failed{scenario:agent-storm}:rate<0.001",
                "unserved_requests{scenario:agent-storm}:rate<0.01",
                NULL,
            },
    },
    {
        .name = "bulk-renewal",
        .description =
            "an operator bulk-renews 10,000 seeded certificates at 5 calls/s in batches "
            "of 50 for 5 min while 5,000 agents poll every 30 s and carry out the renewals",
        .has_agents = true,
        .agents = 5000,
        .has_poll = true,
        .poll_ns = 30 * NS_PER_S,
        .has_duration = true,
        .duration_ns = 300 * NS_PER_S,
        .has_certs = true,
        .certs = 10000,
        .has_bulk_rate = true,
        .bulk_rate_per_s = 5.0,
        .has_bulk_batch = true,
        .bulk_batch = 50,
        .thresholds =
            {
                "http_req_duration{scenario:bulk-renewal,endpoint:" SIM_EP_NAME_BULK_RENEW
                "}:p(99)<5000",
                "http_req_duration{scenario:bulk-renewal,endpoint:" SIM_EP_NAME_BULK_RENEW
                "}:p(95)<2000",
                "http_req_failed{scenario:bulk-renewal,endpoint:" SIM_EP_NAME_BULK_RENEW
                "}:rate<0.01",
                "unserved_requests{scenario:bulk-renewal}:rate<0.01",
                NULL,
            },
    },
    {
        .name = "acme-burst",
        .description = "200 ACME clients each fetching the directory, a nonce and renewal-info "
                       "once per second (certctl's k6 acme_flow), no agents, 5 min",
        .has_agents = true,
        .agents = 0,
        .has_duration = true,
        .duration_ns = 300 * NS_PER_S,
        .has_acme_clients = true,
        .acme_clients = 200,
        .has_acme_mode = true,
        .acme_mode = ACME_MODE_BURST,
        .thresholds =
            {
                "http_req_duration{scenario:acme-burst,endpoint:" SIM_EP_NAME_ACME_DIRECTORY
                "}:p(95)<500",
                "http_req_duration{scenario:acme-burst,endpoint:" SIM_EP_NAME_ACME_NONCE
                "}:p(95)<300",
                "http_req_duration{scenario:acme-burst,endpoint:" SIM_EP_NAME_ACME_RENEWAL_INFO
                "}:p(95)<800",
                "http_req_5xx{scenario:acme-burst}:rate<0.001",
                "unserved_requests{scenario:acme-burst}:rate<0.01",
                NULL,
            },
    },
    {
        /* The union of the other presets' thresholds on one scenario tag. ACME clients run
         * full orders here: nonces chain from answer to answer, so there is no new-nonce
         * threshold (it would have no data). */
        .name = "fleet",
        .description = "all at once: 5,000 agents heartbeating and polling, an operator "
                       "bulk-renewing 10,000 certificates at 5 calls/s, 20 ACME clients "
                       "completing JWS-signed orders, 5 min",
        .has_agents = true,
        .agents = 5000,
        .has_poll = true,
        .poll_ns = 30 * NS_PER_S,
        .has_duration = true,
        .duration_ns = 300 * NS_PER_S,
        .has_certs = true,
        .certs = 10000,
        .has_bulk_rate = true,
        .bulk_rate_per_s = 5.0,
        .has_bulk_batch = true,
        .bulk_batch = 50,
        .has_acme_clients = true,
        .acme_clients = 20,
        .has_acme_mode = true,
        .acme_mode = ACME_MODE_ORDER,
        .thresholds =
            {
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_HEARTBEAT "}:p(99)<1000",
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_HEARTBEAT "}:p(95)<500",
                "http_req_failed{scenario:fleet,actor:agent}:rate<0.001",
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_BULK_RENEW "}:p(99)<5000",
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_BULK_RENEW "}:p(95)<2000",
                "http_req_failed{scenario:fleet,endpoint:" SIM_EP_NAME_BULK_RENEW "}:rate<0.01",
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_ACME_DIRECTORY
                "}:p(95)<500",
                "http_req_duration{scenario:fleet,endpoint:" SIM_EP_NAME_ACME_RENEWAL_INFO
                "}:p(95)<800",
                "http_req_5xx{scenario:fleet,actor:acme}:rate<0.001",
                "unserved_requests{scenario:fleet}:rate<0.01",
                NULL,
            },
    },
};

#define N_PRESETS (sizeof presets / sizeof presets[0])

const struct preset *preset_find(const char *name)
{
    for (size_t i = 0; name && i < N_PRESETS; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

size_t preset_count(void)
{
    return N_PRESETS;
}

const struct preset *preset_at(size_t i)
{
    return i < N_PRESETS ? &presets[i] : NULL;
}

size_t preset_threshold_count(const struct preset *p)
{
    size_t n = 0;
    while (n < PRESET_MAX_THRESHOLDS && p->thresholds[n])
        n++;
    return n;
}

/* ---- the settings' rules (the command line's and the scenario files') ---- */

static const struct {
    const char *option; /* without "--" */
    const char *key;    /* scenario file key */
    bool count;         /* a count (JSON integer), else text */
} settings[PRESET_SET__COUNT] = {
    [PRESET_SET_AGENTS] = {"agents", "agents", true},
    [PRESET_SET_HEARTBEAT] = {"heartbeat", "heartbeat", false},
    [PRESET_SET_JITTER] = {"jitter", "jitter", false},
    [PRESET_SET_POLL] = {"poll", "poll", false},
    [PRESET_SET_AGENT_PROFILE] = {"agent-profile", "agent_profile", false},
    [PRESET_SET_OS_MIX] = {"os-mix", "os_mix", false},
    [PRESET_SET_RAMP] = {"ramp", "ramp", false},
    [PRESET_SET_DURATION] = {"duration", "duration", false},
    [PRESET_SET_CERTS] = {"certs", "certs", true},
    [PRESET_SET_BULK_RATE] = {"bulk-rate", "bulk_rate", false},
    [PRESET_SET_BULK_BATCH] = {"bulk-batch", "bulk_batch", true},
    [PRESET_SET_BULK_PASSES] = {"bulk-passes", "bulk_passes", true},
    [PRESET_SET_ACME_CLIENTS] = {"acme-clients", "acme_clients", true},
    [PRESET_SET_ACME_MODE] = {"acme-mode", "acme_mode", false},
};

const char *preset_setting_key(enum preset_setting s)
{
    return (unsigned)s < PRESET_SET__COUNT ? settings[s].key : NULL;
}

bool preset_setting_is_count(enum preset_setting s)
{
    return (unsigned)s < PRESET_SET__COUNT && settings[s].count;
}

int preset_parse_duration_or_off(const char *text, uint64_t min_ns, uint64_t max_ns,
                                 uint64_t *out_ns, char *reason, size_t n)
{
    uint64_t v = 0;
    int rc = parse_duration_ns(text, 0, max_ns, &v, reason, n);
    if (rc == 0 && (v == 0 || v >= min_ns)) {
        *out_ns = v;
        return 0;
    }
    char what[96];
    if (rc == 0) {
        snprintf(what, sizeof(what), "is too short");
        rc = -ERANGE;
    } else {
        const char *expect = strstr(reason, " (expected");
        snprintf(what, sizeof(what), "%.*s", expect ? (int)(expect - reason) : (int)strlen(reason),
                 reason);
    }
    char lo[32], hi[32];
    parse_format_duration(lo, sizeof(lo), min_ns);
    parse_format_duration(hi, sizeof(hi), max_ns);
    snprintf(reason, n, "%s (expected 0 for off, or a duration from %s to %s, e.g. 30s)", what, lo,
             hi);
    return rc;
}

/* A word out of two (the agent profile, the ACME mode). */
static int parse_word(const char *text, const char *a, const char *b, const char *what, int *out,
                      char *reason, size_t n)
{
    if (strcmp(text, a) == 0) {
        *out = 0;
        return 0;
    }
    if (strcmp(text, b) == 0) {
        *out = 1;
        return 0;
    }
    snprintf(reason, n, "is not %s (expected %s or %s)", what, a, b);
    return -EINVAL;
}

/* The count settings: their range and their field. */
static uint32_t *count_field(struct preset *p, enum preset_setting s, uint32_t *max)
{
    switch (s) {
    case PRESET_SET_AGENTS:
        *max = PRESET_MAX_AGENTS;
        return &p->agents;
    case PRESET_SET_CERTS:
        *max = PRESET_MAX_CERTS;
        return &p->certs;
    case PRESET_SET_BULK_BATCH:
        *max = PRESET_MAX_BULK_BATCH;
        return &p->bulk_batch;
    case PRESET_SET_BULK_PASSES:
        *max = PRESET_MAX_BULK_PASSES;
        return &p->bulk_passes;
    case PRESET_SET_ACME_CLIENTS:
        *max = PRESET_MAX_ACME_CLIENTS;
        return &p->acme_clients;
    default:
        return NULL;
    }
}

/* The has_ flag of s in p. */
static bool *has_flag(struct preset *p, enum preset_setting s)
{
    switch (s) {
    case PRESET_SET_AGENTS:
        return &p->has_agents;
    case PRESET_SET_HEARTBEAT:
        return &p->has_heartbeat;
    case PRESET_SET_JITTER:
        return &p->has_jitter;
    case PRESET_SET_POLL:
        return &p->has_poll;
    case PRESET_SET_AGENT_PROFILE:
        return &p->has_agent_profile;
    case PRESET_SET_OS_MIX:
        return &p->has_os_mix;
    case PRESET_SET_RAMP:
        return &p->has_ramp;
    case PRESET_SET_DURATION:
        return &p->has_duration;
    case PRESET_SET_CERTS:
        return &p->has_certs;
    case PRESET_SET_BULK_RATE:
        return &p->has_bulk_rate;
    case PRESET_SET_BULK_BATCH:
        return &p->has_bulk_batch;
    case PRESET_SET_BULK_PASSES:
        return &p->has_bulk_passes;
    case PRESET_SET_ACME_CLIENTS:
        return &p->has_acme_clients;
    case PRESET_SET_ACME_MODE:
        return &p->has_acme_mode;
    default:
        return NULL;
    }
}

bool preset_has(const struct preset *p, enum preset_setting s)
{
    bool *flag = has_flag((struct preset *)p, s); /* only read */
    return flag && *flag;
}

/* Parses text into a scratch copy of p's field for s (the text settings). */
static int parse_text_setting(struct preset *v, enum preset_setting s, const char *text,
                              char *reason, size_t n)
{
    int word = 0, rc;
    switch (s) {
    case PRESET_SET_HEARTBEAT:
        return parse_duration_ns(text, PRESET_MIN_INTERVAL_NS, PRESET_MAX_INTERVAL_NS,
                                 &v->heartbeat_ns, reason, n);
    case PRESET_SET_JITTER:
        return parse_percent(text, 0, PRESET_MAX_JITTER_PCT, &v->jitter_pct, reason, n);
    case PRESET_SET_POLL:
        return preset_parse_duration_or_off(text, PRESET_MIN_INTERVAL_NS, PRESET_MAX_INTERVAL_NS,
                                            &v->poll_ns, reason, n);
    case PRESET_SET_AGENT_PROFILE:
        rc = parse_word(text, agent_profile_name(AGENT_PROFILE_DEFAULT),
                        agent_profile_name(AGENT_PROFILE_CERTCTL_1_0), "an agent profile", &word,
                        reason, n);
        v->agent_profile = word ? AGENT_PROFILE_CERTCTL_1_0 : AGENT_PROFILE_DEFAULT;
        return rc;
    case PRESET_SET_OS_MIX:
        return parse_os_mix(text, v->os_mix.pct, reason, n);
    case PRESET_SET_RAMP:
        return parse_duration_ns(text, 0, PRESET_MAX_INTERVAL_NS, &v->ramp_ns, reason, n);
    case PRESET_SET_DURATION:
        return parse_duration_ns(text, PRESET_MIN_DURATION_NS, PRESET_MAX_DURATION_NS,
                                 &v->duration_ns, reason, n);
    case PRESET_SET_BULK_RATE:
        return parse_rate_per_s(text, PRESET_MIN_BULK_RATE_PER_S, PRESET_MAX_BULK_RATE_PER_S,
                                &v->bulk_rate_per_s, reason, n);
    case PRESET_SET_ACME_MODE:
        rc = parse_word(text, acme_mode_name(ACME_MODE_BURST), acme_mode_name(ACME_MODE_ORDER),
                        "an ACME mode", &word, reason, n);
        v->acme_mode = word ? ACME_MODE_ORDER : ACME_MODE_BURST;
        return rc;
    default:
        snprintf(reason, n, "is not a setting of a scenario (expected a known setting)");
        return -EINVAL;
    }
}

int preset_set(struct preset *p, enum preset_setting s, const char *text, char *reason, size_t n)
{
    struct preset v = *p; /* p stays untouched on failure */
    uint32_t max = 0;
    uint32_t *count = count_field(&v, s, &max);
    int rc = count ? parse_count_u32(text, 1, max, count, reason, n)
                   : parse_text_setting(&v, s, text, reason, n);
    bool *flag = has_flag(&v, s);
    if (rc != 0 || !flag)
        return rc != 0 ? rc : -EINVAL;
    *flag = true;
    *p = v;
    return 0;
}

/* Appends printf output to buf at *len (size n); remembers running out of room in *full. */
static void append(char *buf, size_t n, size_t *len, bool *full, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));
static void append(char *buf, size_t n, size_t *len, bool *full, const char *fmt, ...)
{
    if (*len >= n) {
        *full = true;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, n - *len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= n - *len) {
        *full = true;
        *len = n;
    } else {
        *len += (size_t)w;
    }
}

/* Writes the value of setting s of p as the command line spells it into v (size n). */
static void format_value(const struct preset *p, enum preset_setting s, char *v, size_t n)
{
    uint32_t max = 0;
    const uint32_t *count = count_field((struct preset *)p, s, &max); /* only read */
    if (count) {
        snprintf(v, n, "%u", *count);
        return;
    }
    switch (s) {
    case PRESET_SET_HEARTBEAT:
        parse_format_duration(v, n, p->heartbeat_ns);
        break;
    case PRESET_SET_JITTER:
        snprintf(v, n, "%g%%", p->jitter_pct);
        break;
    case PRESET_SET_POLL:
        if (p->poll_ns == 0)
            snprintf(v, n, "0");
        else
            parse_format_duration(v, n, p->poll_ns);
        break;
    case PRESET_SET_AGENT_PROFILE:
        snprintf(v, n, "%s", agent_profile_name(p->agent_profile));
        break;
    case PRESET_SET_OS_MIX:
        snprintf(v, n, "%u/%u/%u", p->os_mix.pct[0], p->os_mix.pct[1], p->os_mix.pct[2]);
        break;
    case PRESET_SET_RAMP:
        parse_format_duration(v, n, p->ramp_ns);
        break;
    case PRESET_SET_DURATION:
        parse_format_duration(v, n, p->duration_ns);
        break;
    case PRESET_SET_BULK_RATE:
        snprintf(v, n, "%g/s", p->bulk_rate_per_s);
        break;
    case PRESET_SET_ACME_MODE:
        snprintf(v, n, "%s", acme_mode_name(p->acme_mode));
        break;
    default:
        snprintf(v, n, "?");
        break;
    }
}

int preset_format_settings(const struct preset *p, char *buf, size_t n)
{
    size_t len = 0;
    bool full = false;
    if (n)
        buf[0] = '\0';
    for (int s = 0; s < PRESET_SET__COUNT; s++) {
        if (!preset_has(p, (enum preset_setting)s))
            continue;
        char v[64];
        format_value(p, (enum preset_setting)s, v, sizeof(v));
        append(buf, n, &len, &full, "%s--%s %s", len ? " " : "", settings[s].option, v);
    }
    return full ? -ENOSPC : (int)len;
}
